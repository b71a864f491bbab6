"""Figures for the association's examiners: enrolments, cover and claims over a date range."""
