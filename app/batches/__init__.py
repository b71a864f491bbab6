"""Union batch enrolment: uploads of up to 100,000 rows processed by job workers in chunks."""
