"""analytics/cohort"""
