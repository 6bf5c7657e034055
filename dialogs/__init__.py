"""Pure conversation flows and service policy. Imports neither aiogram nor SQLAlchemy."""
