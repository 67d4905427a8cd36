package gui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/imgops"
)

// sessionState is what a session must bring back, read from the widgets
// and the workbench's fields.
type sessionState struct {
	Models     []string // name and path
	Selected   int
	Images     string
	Samples    int
	Current    int
	Patch      *imgops.Patch
	Target     string
	Placement  Placement
	Params     map[string]string
	EvalCurves []EvalCurve
	Measured   EvalRequest
	// The training history: curves, progress and the text under the bar;
	// the last attack's summary.
	LossX, Loss, Rate []float64
	Progress          float64
	ETA               string
	AttackSummary     string
	AttackMethod      string
}

func stateOf(wb *Workbench) sessionState {
	st := sessionState{Selected: wb.selected, Images: wb.imagesPath, Current: wb.current, Placement: wb.view.Placement(), Params: map[string]string{}}
	for _, m := range wb.models {
		st.Models = append(st.Models, m.Name()+"@"+m.Details().Path)
	}
	if wb.images != nil {
		st.Samples = len(wb.images.Samples)
	}
	if wb.patch != nil {
		st.Patch = wb.patch.Clone()
	}
	st.Target = wb.patchMeta.Target
	for _, f := range wb.sessionFields() {
		st.Params[f.key] = f.get()
	}
	st.EvalCurves = wb.eval.curves
	st.Measured = wb.eval.measured
	st.Measured.Samples = make([]Sample, len(st.Measured.Samples)) // counted, not kept
	tp := wb.train
	tp.mu.Lock()
	st.LossX, st.Loss, st.Rate = append([]float64(nil), tp.lossX...), append([]float64(nil), tp.lossY...), append([]float64(nil), tp.rateY...)
	tp.mu.Unlock()
	// What the plots draw, which must be the series.
	if s := tp.lossPlot.Series; len(s) != 1 || !reflect.DeepEqual(s[0].Y, st.Loss) || !reflect.DeepEqual(tp.ratePlot.Series[0].Y, st.Rate) {
		st.Loss = append(st.Loss, -1) // marks a plot that is not the series
	}
	st.Progress, _ = tp.fraction.Get()
	st.ETA = tp.eta.Text
	st.AttackSummary, st.AttackMethod = wb.compare.attackSummary, wb.compare.attackMethod
	if st.AttackSummary != "" && !strings.Contains(wb.compare.summary.Text, st.AttackSummary) {
		st.AttackSummary += " (not shown)"
	}
	return st
}

// changeEveryField sets every parameter of the right tabs to another valid
// value than it has, choosing by widget kind; variant picks among them so
// that two calls leave different values.
func changeEveryField(t *testing.T, wb *Workbench, variant int) {
	t.Helper()
	for _, f := range wb.sessionFields() {
		before := f.get()
		switch w := f.obj.(type) {
		case *widget.Select:
			opts := w.Options
			if len(opts) < 2 {
				t.Fatalf("%s offers %d options; want two to choose between", f.key, len(opts))
			}
			for k := range opts {
				o := opts[(k+variant+1)%len(opts)]
				if f.key == "train.mask" { // the alpha outline first, to store its path
					o = string(imgops.MaskAlpha)
					if variant > 0 {
						o = string(imgops.MaskCircle)
					}
				}
				if o != w.Selected {
					w.SetSelected(o)
					break
				}
			}
		case *widget.RadioGroup:
			if len(w.Options) < 2 {
				continue // one choice: nothing to change
			}
			for _, o := range w.Options {
				if o != w.Selected {
					w.SetSelected(o)
					break
				}
			}
		case *widget.Check:
			w.SetChecked(!w.Checked)
		case *fieldEntry:
			for _, v := range []float64{3, 7, 0.5, 2, 0.25, 12, 1, 0.05, 100} {
				s := strconv.FormatFloat(v*float64(variant+1), 'g', -1, 64)
				if s == before {
					continue
				}
				// A numField's validator reads the entry's text.
				w.SetText(s)
				if w.Validator == nil || w.Validator(s) == nil {
					break
				}
				w.SetText(before)
			}
		case nil: // a path, set with its choice
			continue
		default:
			t.Fatalf("%s: unexpected widget %T", f.key, w)
		}
		if f.get() == before {
			t.Fatalf("%s: could not change %q (%T)", f.key, before, f.obj)
		}
	}
}

func TestSessionFieldsCoverEveryParameter(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	covered := map[any]bool{}
	for _, f := range wb.sessionFields() {
		covered[f.obj] = true
	}
	roots := []fyne.CanvasObject{wb.train.content, wb.eval.content, wb.attackPanel.content}
	for _, mf := range wb.attackPanel.forms {
		roots = append(roots, mf.form)
	}
	n := 0
	for _, r := range roots {
		for _, o := range test.LaidOutObjects(r) {
			switch o.(type) {
			case *fieldEntry, *widget.Select, *widget.Check, *widget.RadioGroup:
				n++
				if !covered[o] {
					t.Errorf("a %T in the right tabs is not in the session", o)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found %d parameter widgets; want the tabs' 20 and more", n)
	}
}

func TestSessionRoundTrip(t *testing.T) {
	dir := t.TempDir()
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	wb.openModel(filepath.Join(dir, "models", "b.onnx"))
	wb.tasks.Wait()
	wb.openImages(filepath.Join(dir, "imgs"))
	wb.tasks.Wait()
	wb.openImages("/elsewhere/signs") // outside the session's folder
	wb.tasks.Wait()
	trainAndAttack(t, wb, "12", MethodFGSM)
	p := imgops.NewNoisePatch(imgops.RectMask(20, 10), 5)
	p.Pix[7] = 0.123456789 // not on any 8- or 16-bit grid
	wb.setPatch(p, imgops.PatchMeta{Target: "yield"})
	wb.view.SetPlacement(Placement{CX: 0.31, CY: 0.62, Area: 0.0712, AngleDeg: -33.5})
	files.open = filepath.Join(dir, "masks", "outline.png") // the alpha mask's outline
	changeEveryField(t, wb, 0)
	wb.eval.measured = EvalRequest{Target: "yield", Areas: []float64{0.02, 0.3}, Samples: make([]Sample, 5), Placements: 3, MaxAngleDeg: 12.5, Seed: 9}
	wb.eval.SetCurves([]EvalCurve{{Model: "second", Areas: []float64{0.02, 0.3}, SuccessRate: []float64{0.1, 0.75}, Control: []float64{0, 0.05}}})
	wb.selectModel(0)
	want := stateOf(wb)

	path := filepath.Join(dir, "work"+sessionExt)
	files.save = path
	wb.win.Canvas().(fyne.Shortcutable).TypedShortcut(scSaveSess) // Ctrl+Shift+S
	wb.tasks.Wait()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the session was not written: %v", err)
	}
	var js map[string]any
	if err := json.Unmarshal(raw, &js); err != nil {
		t.Fatal(err)
	}
	if s := string(raw); !strings.Contains(s, `"path": "models/b.onnx"`) || !strings.Contains(s, `"path": "/elsewhere/signs"`) || !strings.Contains(s, `"train.maskPath": "masks/outline.png"`) {
		t.Errorf("paths inside the session's folder should be relative, others absolute:\n%s", s)
	}

	// Change everything, then open the session again.
	wb.removeModel(wb.models[1])
	wb.openImages(filepath.Join(dir, "other"))
	wb.tasks.Wait()
	wb.setPatch(imgops.NewGreyPatch(imgops.CircleMask(9)), imgops.PatchMeta{Target: "stop"})
	wb.view.SetPlacement(DefaultPlacement)
	changeEveryField(t, wb, 1)
	trainAndAttack(t, wb, "5", MethodDeepFool)
	wb.eval.SetCurves(nil)
	wb.eval.measured = EvalRequest{}
	if reflect.DeepEqual(stateOf(wb), want) {
		t.Fatal("the state did not change before reopening")
	}
	files.open = path
	wb.openSessionDialog()
	wb.tasks.Wait()
	got := stateOf(wb)
	if d := topDialogText(wb.win); d != "" {
		t.Fatalf("opening showed a dialog: %s", d)
	}

	if !reflect.DeepEqual(got.Models, want.Models) || got.Selected != want.Selected {
		t.Errorf("models %v (selected %d), want %v (%d)", got.Models, got.Selected, want.Models, want.Selected)
	}
	if got.Images != want.Images || got.Samples != want.Samples || got.Current != want.Current {
		t.Errorf("images %q (%d, current %d), want %q (%d, %d)", got.Images, got.Samples, got.Current, want.Images, want.Samples, want.Current)
	}
	if !reflect.DeepEqual(got.Patch, want.Patch) || got.Target != want.Target {
		t.Errorf("the patch did not come back exactly (target %q, want %q)", got.Target, want.Target)
	}
	if got.Placement != want.Placement {
		t.Errorf("placement %+v, want %+v", got.Placement, want.Placement)
	}
	for k, v := range want.Params {
		if got.Params[k] != v {
			t.Errorf("parameter %s = %q, want %q", k, got.Params[k], v)
		}
	}
	if !reflect.DeepEqual(got.LossX, want.LossX) || !reflect.DeepEqual(got.Loss, want.Loss) || !reflect.DeepEqual(got.Rate, want.Rate) ||
		got.Progress != want.Progress || got.ETA != want.ETA || len(want.LossX) != 12 {
		t.Errorf("training history %v/%v/%v at %v (%q), want %v/%v/%v at %v (%q)", got.LossX, got.Loss, got.Rate, got.Progress, got.ETA,
			want.LossX, want.Loss, want.Rate, want.Progress, want.ETA)
	}
	if got.AttackSummary != want.AttackSummary || got.AttackMethod != want.AttackMethod || want.AttackSummary == "" || wb.compare.res != nil {
		t.Errorf("attack summary %q of %s, want %q of %s, and no results of the earlier models", got.AttackSummary, got.AttackMethod, want.AttackSummary, want.AttackMethod)
	}
	if !reflect.DeepEqual(got.EvalCurves, want.EvalCurves) || !reflect.DeepEqual(got.Measured, want.Measured) {
		t.Errorf("evaluation %+v of %+v, want %+v of %+v", got.EvalCurves, got.Measured, want.EvalCurves, want.Measured)
	}
	if got, want := wb.eval.table.Text, "second — 2%: 10%, 30%: 75%"; !strings.HasPrefix(got, want) {
		t.Errorf("the evaluation table reads %q, want it to begin %q", got, want)
	}
	if r := wb.prefs.recent(prefRecentSessions); len(r) == 0 || r[0] != path {
		t.Errorf("recent sessions %v, want %s first", r, path)
	}
}

// trainAndAttack trains a patch of steps steps on the fake backend and
// runs method on every image, as a user does before saving a session.
func trainAndAttack(t *testing.T, wb *Workbench, steps, method string) {
	t.Helper()
	wb.train.steps.Entry.SetText(steps)
	test.Tap(wb.train.start)
	wb.tasks.Wait()
	ap := wb.attackPanel
	ap.method.SetSelected(methodName(method))
	ap.scope.SetSelected(scopeAll)
	test.Tap(ap.run)
	wb.tasks.Wait()
	if wb.train.lastRun == nil || wb.compare.res == nil {
		t.Fatalf("training (%v) or the attack (%v) did not run; dialog %q", wb.train.lastRun, wb.compare.res, topDialogText(wb.win))
	}
}

func TestSessionMissingModelAndFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "old"+sessionExt)
	js := `{"version": 1, "models": [{"demo": true}, {"path": "gone.onnx"}], "selected": 1,
		"images": {"path": "gone-folder"}, "current": 0,
		"placement": {"CX": 0.25, "CY": 0.75, "Area": 0.05, "AngleDeg": 10},
		"params": {"train.steps": "42", "attack.nope.eps": "1"}}`
	if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	samples := len(wb.images.Samples)
	be.loadErr = errBoom // every file fails to open; the demo parts do not
	files.open = path
	wb.openSessionDialog()
	wb.tasks.Wait()

	d := topDialogText(wb.win)
	for _, want := range []string{filepath.Join(dir, "gone.onnx"), filepath.Join(dir, "gone-folder"), "attack.nope.eps", "The rest of the session opened"} {
		if !strings.Contains(d, want) {
			t.Errorf("the dialog does not name %q:\n%s", want, d)
		}
	}
	if len(wb.models) != 1 || wb.models[0].Details().Path != "" || wb.selected != 0 {
		t.Errorf("models %d (selected %d), want the demo model alone, selected", len(wb.models), wb.selected)
	}
	if len(wb.images.Samples) != samples {
		t.Errorf("the current images were replaced: %d samples, want %d", len(wb.images.Samples), samples)
	}
	if got := wb.train.steps.Entry.Text; got != "42" {
		t.Errorf("steps %q, want 42 from the session", got)
	}
	if pl := wb.view.Placement(); pl != (Placement{CX: 0.25, CY: 0.75, Area: 0.05, AngleDeg: 10}) {
		t.Errorf("placement %+v, want the session's", pl)
	}
}

func TestSessionCorruptFile(t *testing.T) {
	valid := `{"version": 1, "models": [{"demo": true}], "selected": 0, "images": {"demo": true}, "current": 0, "placement": {}, "params": {}`
	cases := []struct {
		name, content, want string
	}{
		{"not JSON", "PK\x03\x04 a zip", "is not a session file"},
		{"truncated", valid[:40], "is not a session file"},
		{"newer version", `{"version": 3, "models": []}`, "has version 3; this advlab reads session versions 1 to 2"},
		{"version 0", `{"version": 0, "models": []}`, "has version 0"},
		{"training done beyond its steps", valid + `, "training": {"steps": 3, "done": 4, "outcome": "done", "step": [], "loss": [], "success_rate": []}}`, "a training of 3 steps that completed 4"},
		{"training curves of mismatched lengths", valid + `, "training": {"steps": 3, "done": 2, "outcome": "stopped", "step": [1, 2], "loss": [1], "success_rate": [0, 0]}}`, "training curves of 2 steps, 1 losses"},
		{"training of an unknown end", valid + `, "training": {"steps": 3, "done": 3, "outcome": "won", "step": [], "loss": [], "success_rate": []}}`, "a training that ended \"won\""},
		{"no version", `{"models": []}`, "has no version"},
		{"unknown field", valid + `, "colour": "red"}`, `unknown field "colour"`},
		{"trailing data", valid + `} {}`, "after top-level value"},
		{"model both demo and file", strings.Replace(valid, `{"demo": true}]`, `{"demo": true, "path": "a.onnx"}]`, 1) + "}", "neither the demo model nor a file"},
		{"eval curve of mismatched lengths", valid + `, "eval": {"curves": [{"Model": "m", "Areas": [0.1, 0.2], "SuccessRate": [0.5], "Control": null}], "target": "", "areas": null, "images": 1, "placements": 1, "max_angle_deg": 0, "seed": 0}}`, "scales and rates differ"},
		{"images neither", strings.Replace(valid, `"images": {"demo": true}`, `"images": {}`, 1) + "}", "neither the demo samples nor a folder"},
		{"patch not base64", valid + `, "patch": {"w": 2, "h": 1, "pix": "!!", "mask": "", "meta": {"format": "", "created": "0001-01-01T00:00:00Z"}}}`, "the patch's colours is not base64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad"+sessionExt)
			if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := readSession(path); err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("the error takes more than one line: %v", err)
			}
			wb, files := newTestWorkbench(t, newFakeBackend())
			before := append([]Model(nil), wb.models...)
			wb.prefs.addRecent(prefRecentSessions, path)
			files.open = path
			wb.openSessionDialog()
			wb.tasks.Wait()
			if d := topDialogText(wb.win); !strings.Contains(d, c.want) {
				t.Errorf("dialog %q, want it to say %q", d, c.want)
			}
			if c.name == "patch not base64" {
				return // the rest of that session opens
			}
			if !reflect.DeepEqual(wb.models, before) {
				t.Errorf("the models changed on a session that did not open")
			}
			if r := wb.prefs.recent(prefRecentSessions); len(r) != 0 {
				t.Errorf("recent sessions %v, want the bad one dropped", r)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		wb, files := newTestWorkbench(t, newFakeBackend())
		files.open = filepath.Join(t.TempDir(), "nowhere"+sessionExt)
		wb.openSessionDialog()
		wb.tasks.Wait()
		if d := topDialogText(wb.win); !strings.Contains(d, "nowhere"+sessionExt) {
			t.Errorf("dialog %q, want it to name the file", d)
		}
	})
}

func TestSessionDroppedOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dropped"+sessionExt)
	js := `{"version": 1, "models": [{"demo": true}], "selected": 0, "images": {"demo": true}, "current": 2,
		"placement": {"CX": 0.5, "CY": 0.5, "Area": 0.2, "AngleDeg": 0}, "params": {"train.steps": "77"}}`
	if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	wb, _ := newTestWorkbench(t, newFakeBackend())
	wb.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(path)})
	wb.tasks.Wait()
	if d := topDialogText(wb.win); d != "" {
		t.Fatalf("dropping the session showed %q", d)
	}
	if got := wb.train.steps.Entry.Text; got != "77" || wb.current != 2 || wb.view.Placement().Area != 0.2 {
		t.Errorf("steps %q, image %d, area %v; want the session's 77, 2, 0.2", got, wb.current, wb.view.Placement().Area)
	}
}

// FuzzReadSession feeds readSession arbitrary files: it returns an error or
// a session whose patch decodes or fails, and never panics.
func FuzzReadSession(f *testing.F) {
	f.Add([]byte(`{"version": 1, "models": [{"demo": true}], "selected": 0, "images": {"demo": true}, "current": 0, "placement": {}, "params": {}}`))
	f.Add([]byte(`{"version": 1, "models": [], "selected": 0, "images": {"path": "x"}, "current": 0, "placement": {}, "params": {}, "patch": {"w": 1, "h": 1, "pix": "AAAAAAAAAAAAAAAA", "mask": "AACAPw==", "meta": {"format": "", "created": "0001-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`{"version": 2}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f"+sessionExt)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := readSession(path)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error takes more than one line: %v", err)
			}
			return
		}
		if s.Patch != nil {
			if p, err := s.Patch.decode(); err == nil && p.Validate() != nil {
				t.Errorf("decode returned an invalid patch")
			}
		}
	})
}

// startTestWorkbench is newTestWorkbench with paths given on the command
// line.
func startTestWorkbench(t *testing.T, be Backend, paths ...string) *Workbench {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	wb := newWorkbench(a, w, be)
	wb.tasks.manualLoop()
	wb.files = &fakeFiles{}
	w.Resize(fyne.NewSize(1280, 800))
	wb.start(paths)
	wb.tasks.Wait()
	return wb
}

// TestSessionOpensByShortcutAndAtStart opens a session with its shortcut,
// and given on the command line (alone, with a model, unreadable, and
// naming a model that no longer opens).
func TestSessionOpensByShortcutAndAtStart(t *testing.T) {
	dir := t.TempDir()
	write := func(name, js string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good"+sessionExt, `{"version": 1, "models": [{"demo": true}], "selected": 0, "images": {"demo": true}, "current": 2,
		"placement": {"CX": 0.5, "CY": 0.5, "Area": 0.2, "AngleDeg": 0}, "params": {"train.steps": "77"}}`)
	gone := write("gone"+sessionExt, `{"version": 1, "models": [{"path": "gone.onnx"}], "selected": 0, "images": {"demo": true}, "current": 1,
		"placement": {"CX": 0.5, "CY": 0.5, "Area": 0.2, "AngleDeg": 0}, "params": {"train.steps": "55"}}`)
	bad := write("bad"+sessionExt, `not json`)
	model := write("x.onnx", "the fake backend does not read it")

	t.Run("shortcut", func(t *testing.T) {
		wb, files := newTestWorkbench(t, newFakeBackend())
		files.open = good
		wb.win.Canvas().(fyne.Shortcutable).TypedShortcut(scOpenSess)
		wb.tasks.Wait()
		if len(files.asked) != 1 || !strings.HasPrefix(files.asked[0], "open Open a session") {
			t.Fatalf("Ctrl+Alt+O asked %q; want the session dialog", files.asked)
		}
		if got := wb.train.steps.Entry.Text; got != "77" || wb.current != 2 {
			t.Errorf("steps %q, image %d; want the session's 77, 2", got, wb.current)
		}
	})
	for _, tc := range []struct {
		name      string
		args      []string
		loadErr   error
		steps     string
		current   int
		models    []string
		dialog    string // "" for none
		loadPaths []string
	}{
		{"alone", []string{good}, nil, "77", 2, []string{"fake-signs"}, "", nil},
		{"with a model", []string{good, model}, nil, "77", 2, []string{"fake-signs", "second"}, "", []string{model}},
		{"not a session", []string{bad}, nil, defaultStepsText(t), 0, []string{"fake-signs"}, "not a session file", nil},
		{"its model gone", []string{gone}, errBoom, "55", 1, []string{"fake-signs"}, "did not open", []string{filepath.Join(dir, "gone.onnx")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := newFakeBackend()
			be.loadErr = tc.loadErr
			wb := startTestWorkbench(t, be, tc.args...)
			var names []string
			for _, m := range wb.models {
				names = append(names, m.Name())
			}
			if !reflect.DeepEqual(names, tc.models) || wb.images == nil {
				t.Errorf("models %v, images %v; want %v and images", names, wb.images != nil, tc.models)
			}
			if got := wb.train.steps.Entry.Text; got != tc.steps || wb.current != tc.current {
				t.Errorf("steps %q, image %d; want %q, %d", got, wb.current, tc.steps, tc.current)
			}
			if d := topDialogText(wb.win); (tc.dialog == "") != (d == "") || !strings.Contains(d, tc.dialog) {
				t.Errorf("dialog %q; want one saying %q", d, tc.dialog)
			}
			if !reflect.DeepEqual(be.loaded, tc.loadPaths) {
				t.Errorf("loaded %q from disk; want %q", be.loaded, tc.loadPaths)
			}
		})
	}
}

// defaultStepsText is the Patch tab's steps before any session.
func defaultStepsText(t *testing.T) string {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	return wb.train.steps.Entry.Text
}
