# Two commands: `make run` and `make test`. Both install what they need first.
SWIFT ?= swift

.PHONY: run test lint format fuzz soak deps build fixtures clean

deps:
	@scripts/install-deps.sh

build: deps
	scripts/build-release.sh >/dev/null

# The main job: the fixture photographs through `gearbox batch` with an embedded farm (a job server and one
# image worker per core in one process), two sizes each, into out/thumbnails. Runs again skip what is done.
RUN_SIZES ?= -s 200x150 -s 640x480
run: build
	fixtures/fetch.sh
	$$(scripts/build-release.sh 2>/dev/null) batch fixtures/cache/photos -o out/thumbnails $(RUN_SIZES) --progress $${PROGRESS:-auto}
	@echo "Thumbnails are in out/thumbnails/ (the folders of fixtures/cache/photos, name_WIDTHxHEIGHT.jpg)."

# Builds every product first: the interop tests run the gearbox binary. The suites run in groups, one
# process each (so that the ones that start servers, workers and browsers do not all share one process's
# cooperative threads), each under a deadline that stops it and names the tests that never ended, while the
# sanitized fuzzers build beside them. Nothing is retried. Then a short, deterministic pass of every fuzzer
# (scripts/test.sh).
# MemoryTests reads its process's own memory, so it runs alone in a group of its own. The fixture photographs
# are made before any group starts, not by the first test that needs them.
TEST_GROUPS = \
	'GearmanProtocolTests|GearmanServerTests|GearmanTests|GearmanFuzzingTests|ImagingTests|PhotoMetadataTests !MemoryTests' \
	'MemoryTests' \
	'InteropTests|GearmanInteropTests|OperatorTests' \
	'ImageFarmTests|FarmProcessTests|UploadFrontTests|GearmanBenchTests'
test: deps
	scripts/test.sh $(TEST_GROUPS)

# The style every Swift file keeps: swift-format (part of the toolchain) with .swift-format; `make format` applies it.
FORMATTED = Sources Tests Fuzz Package.swift
lint: deps
	$(SWIFT) format lint --strict --configuration .swift-format -r $(FORMATTED)

format:
	$(SWIFT) format format --configuration .swift-format -i -r $(FORMATTED)

# Every fuzzer for FUZZ_SECONDS each (default 10 minutes): libFuzzer on the protocol layer and on the engine,
# then mutated conversations against `gearbox server` over TCP.
FUZZ_SECONDS ?= 600
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The interop suites 20 times in a row, then 10 minutes of load with workers killed and restarted.
soak: deps
	scripts/soak.sh

clean:
	rm -rf .build .build-fuzz
