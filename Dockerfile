# One image for every instance, the one-shot migration and the console (README: Deployment).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# the managers' report draws Chinese chart labels (bot/reports/charts.py)
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# installed as a wheel: the templates, samples and migrations travel as package data
WORKDIR /src
COPY pyproject.toml ./
COPY bot ./bot
COPY desk ./desk
COPY dialogs ./dialogs
COPY storage ./storage
COPY templates_zh ./templates_zh
RUN pip install . && rm -rf /src

# runs as a user of its own; data/ is only for the SQLite default, unused with PostgreSQL
WORKDIR /app
RUN useradd --system --home-dir /app bot && mkdir -p /app/data && chown -R bot /app
USER bot

# webhook mode listens here (WEB_PORT); /healthz answers 200
EXPOSE 8080
CMD ["python", "-m", "bot", "run"]
