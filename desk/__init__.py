"""The agents' casework, channel-free: typed commands → effects or a refusal, the ticket state
machine, SLA arithmetic and what each due follow-up does. No aiogram, no SQLAlchemy."""
