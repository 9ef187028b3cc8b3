"""analytics/stats"""
