"""analytics/present"""
