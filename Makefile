# advlab — the two commands the README opens with are `make run` and `make test`.
# Every target installs what it needs on a fresh Debian machine, and only that.
GO      ?= go
BIN     := bin/advlab
PKGS    := ./...

.PHONY: deps build run test bench fuzz package fixtures screenshot clean

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

# Every fuzz target in the repository (each `func Fuzz…` in a _test.go file),
# one after the other for FUZZTIME each; the first finding stops it with
# go test's report and the failing input under the package's testdata/fuzz/.
# Not part of `make test`, which replays the committed corpora only.
FUZZTIME ?= 2m
fuzz: deps
	@set -e; grep -rl --include='*_test.go' --exclude-dir=third_party --exclude-dir=testdata-cache '^func Fuzz' . | sort | \
	while read -r file; do \
		pkg=./$$(dirname "$${file#./}"); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
			echo "== $$pkg $$name ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg" || exit 1; \
		done; \
	done

bench: deps fixtures
	$(GO) test -run '^$$' -bench . -benchtime 5x $(PKGS)

# A Linux desktop bundle, dist/advlab.tar.xz (binary, .desktop file, icon and
# an install Makefile), made by `fyne package` from the top-level FyneApp.toml
# (name, app ID, version, icon). fyne reads FyneApp.toml from --src, which
# must then be the top level rather than cmd/advlab, so the binary is built
# first, with the build tag that FyneApp.toml's [Migrations] fyneDo stands
# for, and handed over with --exe. dist/ also gets the unpacked binary with
# the ONNX Runtime library beside it, where advlab looks first.
FYNE := $(GO) run fyne.io/tools/cmd/fyne@v1.7.4
package: deps
	rm -rf dist && mkdir -p dist
	$(GO) build -tags migrated_fynedo -trimpath -ldflags "-s -w" -o dist/advlab ./cmd/advlab
	cd dist && $(FYNE) package --os linux --src $(CURDIR) --exe $(CURDIR)/dist/advlab --release
	cp third_party/onnxruntime/linux-$$($(GO) env GOARCH)/libonnxruntime.so.1 dist/
	@ls -l dist

# docs/screenshot.png: the real window under Xvfb, scripted by ADVLAB_DEMO=compare
# to train a short patch and open the comparison view (see scripts/screenshot).
screenshot: build
	@scripts/install-deps --gui-tools
	ADVLAB=$(CURDIR)/$(BIN) scripts/screenshot docs/screenshot.png

clean:
	rm -rf bin dist
