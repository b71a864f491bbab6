"""Individual enrolment: application, platform verification, examiner review."""
