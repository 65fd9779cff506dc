"""lambda_db: SQLAlchemy engines for AWS Lambda (filled in by the foundation work)."""
