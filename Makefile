# The two commands a new machine needs:  make demo  (run the main job)  and  make test.
SHELL := /bin/bash
UV := python3 -m uv
N ?= 200
export UV_FROZEN := 1

.PHONY: setup infra-up infra-down infra-status check lint typecheck unit test demo bench bench-search bench-lookup schemas asyncapi docs clean-data

setup:  ## Install uv if missing, then the workspace's locked dependencies
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --all-packages --quiet

infra-up: setup  ## Build once and start Kafka, MinIO and FerretDB on loopback
	@bash deploy/local/infra.sh up

infra-down:
	@bash deploy/local/infra.sh down

infra-status:
	@bash deploy/local/infra.sh status

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: setup
	$(UV) run mypy libs/*/src services/*/src
	$(UV) run mypy libs/*/tests services/*/tests tests

check: lint typecheck  ## ruff and mypy --strict

unit: setup  ## Unit tests only: no servers needed
	$(UV) run pytest -m "not integration and not e2e" libs services

test: check infra-up  ## Every test, against the real servers it starts itself
	$(UV) run pytest libs services tests

demo: infra-up  ## The main job end to end: ingest → archive → borrow → OA approval → audit
	@$(UV) run python -m devkit.demo

bench: infra-up  ## make bench N=500: throughput and latency, written to bench/results/
	@$(UV) run python -m devkit.bench --documents $(N)

bench-search: infra-up  ## make bench-search N=100000: search latency over N archived records
	@$(UV) run python -m devkit.search_bench --records $(N)

bench-lookup: infra-up  ## make bench-lookup: the database's lookup by _id as a collection grows
	@$(UV) run python -m devkit.lookup_bench

schemas: setup  ## Export every event's JSON Schema to libs/contracts/schemas/
	$(UV) run python -m contracts.schema_export libs/contracts/schemas

asyncapi: setup  ## Export each service's AsyncAPI document to docs/asyncapi/
	$(UV) run python -m devkit.asyncapi docs/asyncapi

docs: schemas asyncapi

clean-data: infra-down  ## Forget all local data (Kafka, S3, MongoDB); binaries stay
	rm -rf .local/data
