# advlab — the two commands the README opens with are `make run` and `make test`.
# Every target installs what it needs on a fresh Debian machine, and only that.
GO      ?= go
BIN     := bin/advlab
PKGS    := ./...

.PHONY: deps build run test bench package fixtures screenshot clean

deps:
	@scripts/install-deps

build: deps
	$(GO) build -o $(BIN) ./cmd/advlab

run: build
	./$(BIN)

# All tests, including the PyTorch-reference gradient checks on real
# architectures (their fixtures are generated once into testdata-cache/).
test: deps fixtures
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 45m $(PKGS)

fixtures:
	@scripts/gen-fixtures

bench: deps fixtures
	$(GO) test -run '^$$' -bench . -benchtime 5x $(PKGS)

clean:
	rm -rf bin dist
