"""mutualaid: the Shanghai new-employment-form workers' mutual-aid protection plan service."""

__version__ = "0.1.0"
