"""Bulletin presentation: templates, UI strings, colours and charts (architecture §6).

A package so that `reports.render` can import the chart code and strings that sit beside the
templates they belong to.
"""
