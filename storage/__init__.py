"""SQLAlchemy 2 async storage: models, repositories that never commit, a unit of work that does."""
