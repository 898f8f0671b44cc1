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
# two cooperative threads. A group that has not finished after 10 minutes (a rare hang in the interop
# suites, still under investigation) is stopped and run once more, loudly; a failing test fails at once.
TEST_GROUPS = \
	'GearmanProtocolTests|GearmanServerTests|GearmanTests|ImagingTests' \
	'InteropTests|GearmanInteropTests' \
	'ImageFarmTests|FarmProcessTests|UploadFrontTests|GearmanBenchTests'
test: deps
	$(SWIFT) build --build-tests
	@for group in $(TEST_GROUPS); do \
		echo "== swift test --filter '$$group'"; \
		timeout -k 10 600 $(SWIFT) test --skip-build --filter "$$group"; status=$$?; \
		if [ $$status -eq 124 ] || [ $$status -eq 137 ]; then \
			echo "warning: '$$group' did not finish within 10 minutes; running it once more"; \
			pkill -KILL -f gearboxPackageTests.xctest || true; \
			timeout -k 10 600 $(SWIFT) test --skip-build --filter "$$group"; status=$$?; \
		fi; \
		[ $$status -eq 0 ] || exit $$status; \
	done

clean:
	rm -rf .build
