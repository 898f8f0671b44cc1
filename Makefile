# Two commands: `make run` and `make test`. Both install what they need first.
SWIFT ?= swift
CONFIG ?= release

.PHONY: run test deps build fixtures clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG) --product gearbox

# The main job: the fixture photographs through `gearbox batch` with an embedded farm (a job server and one
# image worker per core in one process), two sizes each, into out/thumbnails. Runs again skip what is done.
RUN_SIZES ?= -s 200x150 -s 640x480
run: build
	fixtures/fetch.sh
	$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/gearbox batch fixtures/cache/photos -o out/thumbnails $(RUN_SIZES) --progress $${PROGRESS:-auto}
	@echo "Thumbnails are in out/thumbnails/ (the folders of fixtures/cache/photos, name_WIDTHxHEIGHT.jpg)."

# Builds every product first: the interop tests run the gearbox binary. The suites run in three groups, one
# process each, so that the ones that start servers, workers and browsers do not all share one process's
# two cooperative threads; a group that hangs is stopped after 15 minutes instead of holding CI.
TEST_GROUPS = \
	'GearmanProtocolTests|GearmanServerTests|GearmanTests|ImagingTests' \
	'InteropTests|GearmanInteropTests' \
	'ImageFarmTests|FarmProcessTests|UploadFrontTests|GearmanBenchTests'
test: deps
	$(SWIFT) build --build-tests
	@for group in $(TEST_GROUPS); do \
		echo "== swift test --filter '$$group'"; \
		timeout -k 10 900 $(SWIFT) test --skip-build --filter "$$group" || exit $$?; \
	done

clean:
	rm -rf .build
