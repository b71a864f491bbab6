"""Enrolment: individual applications, platform verification, examiner review; and what every way
in shares: whether a person may enrol again (`shares`) and how applications are written
(`writer`)."""
