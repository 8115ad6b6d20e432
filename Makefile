# The two commands a new machine needs:  make demo  (run the main job)  and  make test.
SHELL := /bin/bash
UV := python3 -m uv
N ?= 200
export UV_FROZEN := 1

.PHONY: setup infra-up infra-down infra-status check lint typecheck unit test fuzz demo backup restore bench bench-check bench-audit bench-search bench-parse bench-intake bench-borrowing bench-completeness schemas asyncapi docs checks-doc endpoints-doc clean-data

setup:  ## Install uv if missing, then the workspace's locked dependencies
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --all-packages --quiet

infra-up: setup  ## Build once and start Kafka, MinIO, PostgreSQL, ClamAV and Keycloak on loopback
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

fuzz: setup  ## make fuzz EXAMPLES=5000: the parsers fuzzed long and freshly random, with a report
	AAP_FUZZ_EXAMPLES=$${EXAMPLES:-3000} AAP_FUZZ_RANDOM=1 $(UV) run pytest -m fuzz libs services \
		-p no:cacheprovider -W ignore::UserWarning --hypothesis-show-statistics

demo: infra-up  ## The main job end to end: ingest → archive → borrow → OA approval → audit
	@$(UV) run python -m devkit.demo

backup: setup  ## make backup DIR=/backups/2026-12-07: databases, objects and checkpoints, encrypted
	@$(UV) run python -m devkit.backup take $${DIR:?set DIR, the folder to back up into}

restore: setup  ## make restore DIR=…: into a stack whose databases and buckets are empty
	@$(UV) run python -m devkit.backup restore $${DIR:?set DIR, the backup to restore}

bench: infra-up  ## make bench N=500: throughput and latency, written to bench/results/
	@$(UV) run python -m devkit.bench --documents $(N)

bench-check: infra-up  ## make bench-check: permission-check p50/p99 over HTTP at 500/s for 30 s
	@$(UV) run python -m devkit.bench_check

bench-audit: infra-up  ## make bench-audit: offline verification of an export, durable appends
	@$(UV) run python -m devkit.audit_bench

bench-search: infra-up  ## make bench-search N=100000: search latency over N archived records
	@$(UV) run python -m devkit.search_bench --records $(N)

bench-parse: setup  ## make bench-parse: the largest journals the limits let in, parsed in a worker
	@$(UV) run python -m devkit.parse_bench

bench-intake: setup  ## make bench-intake: one attachment read at intake, by kind (signed PDFs, sealed OFDs verified)
	@$(UV) run python -m devkit.intake_bench

bench-borrowing: setup  ## make bench-borrowing: a 查阅 page rendered and a 复制 copy marked, by format
	@$(UV) run python -m devkit.borrowing_bench

bench-completeness: infra-up  ## make bench-completeness N=100000: what a year of N vouchers lacks, timed
	@$(UV) run python -m devkit.completeness_bench --vouchers $(N)

bench-recheck: infra-up  ## make bench-recheck N=200: the re-check as kept per record, bare and whole
	@$(UV) run python -m devkit.recheck_bench --records $(N)

samples: setup  ## Write the sample 数电票 printouts in samples/attachments (the same bytes each time)
	$(UV) run python -m devkit.sample_invoices

schemas: setup  ## Export every event's JSON Schema to libs/contracts/schemas/
	$(UV) run python -m contracts.schema_export libs/contracts/schemas

asyncapi: setup  ## Export each service's AsyncAPI document to docs/asyncapi/
	$(UV) run python -m devkit.asyncapi docs/asyncapi

checks-doc: setup  ## docs/four-property-check.md from the check registry and the policies
	$(UV) run python -m devkit.checks_doc docs/four-property-check.md

endpoints-doc: setup  ## docs/endpoints.md from the endpoint table
	$(UV) run python -m devkit.endpoints_doc docs/endpoints.md

docs: schemas asyncapi checks-doc endpoints-doc

clean-data: infra-down  ## Forget all local data (Kafka, S3, PostgreSQL); binaries stay
	rm -rf .local/data
