#!/usr/bin/env bash
# Run the prediction API for development (npm run api:dev): builds/updates the test venv, trains
# the sample model with the course pipeline if there is no model yet, then serves on
# 127.0.0.1:$PORT (default 8000) with python -m app, as the Docker image does (the image binds
# 0.0.0.0; here HOST=0.0.0.0 opens the server to the network on purpose).
#
#   PORT=8123 npm run api:dev
#   WEB_CONCURRENCY=2 PORT=8123 npm run api:dev       # one process per core
#   DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/week PORT=8123 bash scripts/api-dev.sh
#
# Without DATABASE_URL predictions go to lambdas-src/api/var/predictions.sqlite3 (SQLITE_PATH).
# MODEL_PATH defaults to lambdas-src/api/model/model.joblib; delete it to retrain.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
api="$root/lambdas-src/api"
bash "$root/scripts/setup/py-env.sh"
py="$root/.venv/bin/python"

model="${MODEL_PATH:-$api/model/model.joblib}"
if [[ ! -e "$model" ]]; then
  echo "api-dev: no model at $model: training the sample model (course pipeline)" >&2
  (cd "$api" && "$py" -m ml.algo --data ml/data/sample.csv --out "$model")
fi

export MODEL_PATH="$model"
export PORT="${PORT:-8000}"
export HOST="${HOST:-127.0.0.1}"
cd "$api"
echo "api-dev: serving on http://$HOST:$PORT (docs: /docs)" >&2
exec "$py" -m app
