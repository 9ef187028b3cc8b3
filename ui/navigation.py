"""The pages, in the order of the navigation: (script, label, icon).

A module of its own, without streamlit, so the development tools can list the pages.
"""

PAGES = (
    ("app.py", "Overview", ":material/dashboard:"),
    ("pages/1_Patency.py", "Patency", ":material/show_chart:"),
    ("pages/2_Clinical_outcomes.py", "Clinical outcomes", ":material/healing:"),
    ("pages/3_Safety.py", "Safety", ":material/health_and_safety:"),
    ("pages/4_Subgroups.py", "Subgroups", ":material/account_tree:"),
    ("pages/5_Tables.py", "Tables", ":material/table_chart:"),
    ("pages/6_Data.py", "Data", ":material/description:"),
    ("pages/7_Centres.py", "Centres", ":material/local_hospital:"),
    ("pages/8_Models.py", "Models", ":material/functions:"),
)
