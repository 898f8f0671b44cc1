# Two commands: `make run` and `make test`. Both install what they need first.
SWIFT ?= swift
CONFIG ?= release

.PHONY: run test deps build fixtures clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG) --product gearbox

run: build
	$(SWIFT) run -c $(CONFIG) gearbox server --verbose info

# Builds every product first: the interop tests run the gearbox binary.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
