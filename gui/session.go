package gui

// Sessions: File › Save session writes what the workbench holds (the models,
// the image set, the patch and its placement, the parameters of the right
// tabs, the evaluation's curves, the last training's curves and the last
// attack's summary) as one JSON project file, and File › Open session puts
// it all back. Attack results hold images and are not saved: run the attack
// again to see them.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

const (
	// sessionVersion is the version of the session files this advlab
	// writes; it reads every version from 1 (which has no training curves
	// and no attack summary) to this one.
	sessionVersion = 2
	// sessionExt is the session files' extension.
	sessionExt = ".advlab"
	// maxSessionBytes bounds the session files read (a 1024×1024 patch
	// takes about 22 MB of base64).
	maxSessionBytes = 256 << 20
	// prefRecentSessions lists the sessions saved or opened.
	prefRecentSessions = "recent.sessions"
)

// sessionFile is the JSON of a session file. Paths are relative to the
// session file's folder when they lie inside it, absolute otherwise.
type sessionFile struct {
	Version int            `json:"version"`
	Models  []sessionModel `json:"models"`
	// Selected is the index in Models of the model the panels work with.
	Selected int           `json:"selected"`
	Images   sessionImages `json:"images"`
	// Current is the index of the canvas's image in the set.
	Current   int           `json:"current"`
	Patch     *sessionPatch `json:"patch,omitempty"`
	Placement Placement     `json:"placement"`
	// Params are the texts of the right tabs' fields, keyed as the
	// preferences key them (sessionFields).
	Params map[string]string `json:"params"`
	// Eval is the last evaluation, when one ran.
	Eval *sessionEval `json:"eval,omitempty"`
	// Training and Attack are the last training's curves and the last
	// attack's summary (version 2).
	Training *sessionTraining `json:"training,omitempty"`
	Attack   *sessionAttack   `json:"attack,omitempty"`
}

// sessionEval is the last evaluation: its curves as measured and what of
// its request the saved CSV reports (evalPanel.report).
type sessionEval struct {
	Curves      []EvalCurve `json:"curves"`
	Target      string      `json:"target"`
	Areas       []float64   `json:"areas"`
	Images      int         `json:"images"`
	Placements  int         `json:"placements"`
	MaxAngleDeg float64     `json:"max_angle_deg"`
	Seed        uint64      `json:"seed"`
}

// sessionModel is a loaded model: the embedded demo model, or a file.
type sessionModel struct {
	Demo bool   `json:"demo,omitempty"`
	Path string `json:"path,omitempty"`
	// Defense is the model's defense, NAME[:k=v,…] ("" bare).
	Defense string `json:"defense,omitempty"`
}

// sessionImages is the image set: the demo samples, or a folder or file.
type sessionImages struct {
	Demo bool   `json:"demo,omitempty"`
	Path string `json:"path,omitempty"`
}

// sessionPatch is the patch, exactly: its colours and mask as base64 of
// little-endian float32s, in imgops.Patch's order.
type sessionPatch struct {
	W         int              `json:"w"`
	H         int              `json:"h"`
	Pix       string           `json:"pix"`
	Mask      string           `json:"mask"`
	MaskShape imgops.MaskShape `json:"mask_shape,omitempty"`
	Meta      imgops.PatchMeta `json:"meta"`
}

// sessionField is one parameter of the right tabs: its preference key, how
// to read and set its text, and its widget.
type sessionField struct {
	key string
	get func() string
	set func(string)
	obj any
	// path is set for fields holding a file path, stored relative.
	path bool
}

// sessionFields lists every parameter of the Patch, Attack and Evaluate tabs.
func (wb *Workbench) sessionFields() []sessionField {
	var fs []sessionField
	num := func(key string, f *numField) {
		fs = append(fs, sessionField{key: key, get: func() string { return f.Entry.Text }, set: f.Entry.SetText, obj: f.Entry})
	}
	tp, ap, ep := wb.train, wb.attackPanel, wb.eval
	fs = append(fs,
		sessionField{key: "train.target", get: func() string { return tp.target.Selected }, set: tp.target.SetSelected, obj: tp.target},
		sessionField{key: "train.against", get: func() string { return fmt.Sprint(tp.against.Checked) }, set: func(s string) { tp.against.SetChecked(s == "true") }, obj: tp.against},
		sessionField{key: "train.maskPath", get: func() string { return tp.maskPath }, set: func(s string) {
			tp.maskPath = s
			wb.prefs.setText("train.maskPath", s)
		}, path: true},
		// Set without its callback, which asks for an outline file.
		sessionField{key: "train.mask", get: func() string { return tp.mask.Selected }, set: func(s string) {
			on := tp.mask.OnChanged
			tp.mask.OnChanged = nil
			tp.mask.SetSelected(s)
			tp.mask.OnChanged = on
			wb.prefs.setText("train.mask", s)
		}, obj: tp.mask})
	for _, f := range []struct {
		key string
		f   *numField
	}{{"train.size", tp.size}, {"train.maxAngle", tp.maxAngle}, {"train.scaleMin", tp.scaleMin}, {"train.scaleMax", tp.scaleMax},
		{"train.steps", tp.steps}, {"train.batch", tp.batch}, {"train.lr", tp.lr}, {"train.tv", tp.tv}, {"train.nps", tp.nps},
		{"train.seed", tp.seed}} {
		num(f.key, f.f)
	}
	fs = append(fs,
		sessionField{key: "attack.method", get: func() string { return methodID(ap.method.Selected) }, set: func(s string) { ap.method.SetSelected(methodName(s)) }, obj: ap.method},
		sessionField{key: "attack.target", get: func() string { return ap.target.Selected }, set: ap.target.SetSelected, obj: ap.target},
		sessionField{key: "attack.scope", get: func() string { return ap.scope.Selected }, set: ap.scope.SetSelected, obj: ap.scope})
	for _, m := range attackMethods() {
		for _, f := range ap.forms[m.id].fields {
			f := f
			var obj any = f.entry
			if f.radio != nil {
				obj = f.radio
			} else if f.check != nil {
				obj = f.check
			}
			fs = append(fs, sessionField{key: "attack." + m.id + "." + f.param.Name, get: f.text, set: f.setText, obj: obj})
		}
	}
	fs = append(fs, sessionField{key: "eval.target", get: func() string { return ep.target.Selected }, set: ep.target.SetSelected, obj: ep.target})
	for _, f := range []struct {
		key string
		f   *numField
	}{{"eval.areaMin", ep.areaMin}, {"eval.areaMax", ep.areaMax}, {"eval.points", ep.points}, {"eval.placements", ep.placements},
		{"eval.maxAngle", ep.maxAngle}, {"eval.seed", ep.seed},
		{"defenses.eps", ep.defenses.eps}, {"defenses.patchSteps", ep.defenses.patchSteps}, {"defenses.limit", ep.defenses.limit}} {
		num(f.key, f.f)
	}
	return append(fs, ep.sweeps.sessionFields()...)
}

// sessionPath stores p relative to dir when it lies inside it.
func sessionPath(dir, p string) string {
	if p == "" || !filepath.IsAbs(p) {
		return p
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return rel
}

// resolvePath is the inverse of sessionPath.
func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// snapshotSession records the workbench's state for a session file at path.
// It runs on the UI goroutine; the patch is copied.
func (wb *Workbench) snapshotSession(path string) sessionFile {
	dir := filepath.Dir(path)
	s := sessionFile{Version: sessionVersion, Selected: wb.selected, Current: wb.current, Placement: wb.view.Placement(), Params: map[string]string{}}
	for _, m := range wb.models {
		sm := sessionModel{Demo: true}
		if p := m.Details().Path; p != "" {
			sm = sessionModel{Path: sessionPath(dir, p)}
		}
		if d, ok := m.(DefendedModel); ok {
			sm.Defense = d.Defense()
		}
		s.Models = append(s.Models, sm)
	}
	s.Images = sessionImages{Demo: wb.imagesPath == "", Path: sessionPath(dir, wb.imagesPath)}
	if wb.patch != nil {
		p := wb.patch
		s.Patch = &sessionPatch{W: p.W, H: p.H, Pix: encodeFloats(p.Pix), Mask: encodeFloats(p.Mask.Pix), MaskShape: p.Mask.Shape, Meta: wb.patchMeta}
	}
	for _, f := range wb.sessionFields() {
		v := f.get()
		if f.path {
			v = sessionPath(dir, v)
		}
		s.Params[f.key] = v
	}
	if ep := wb.eval; len(ep.curves) > 0 {
		r := ep.measured
		s.Eval = &sessionEval{Curves: ep.curves, Target: r.Target, Areas: r.Areas, Images: len(r.Samples),
			Placements: r.Placements, MaxAngleDeg: r.MaxAngleDeg, Seed: r.Seed}
	}
	s.Training, s.Attack = wb.train.snapshotTraining(), wb.compare.snapshotAttack()
	return s
}

func encodeFloats(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func decodeFloats(s string, n int, what string) ([]float32, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("the patch's %s is not base64 (%v); save the session again", what, err)
	}
	if len(b) != 4*n {
		return nil, fmt.Errorf("the patch's %s holds %d bytes, want %d; save the session again", what, len(b), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// decode rebuilds the patch and checks it.
func (sp *sessionPatch) decode() (*imgops.Patch, error) {
	if sp.W <= 0 || sp.H <= 0 || sp.W > 1<<14 || sp.H > 1<<14 {
		return nil, fmt.Errorf("the patch is %d×%d; want a size from 1 to 16384", sp.W, sp.H)
	}
	pix, err := decodeFloats(sp.Pix, 3*sp.W*sp.H, "colours")
	if err != nil {
		return nil, err
	}
	mask, err := decodeFloats(sp.Mask, sp.W*sp.H, "mask")
	if err != nil {
		return nil, err
	}
	p := &imgops.Patch{W: sp.W, H: sp.H, Pix: pix, Mask: imgops.Mask{W: sp.W, H: sp.H, Pix: mask, Shape: sp.MaskShape}}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w; save the session again", err)
	}
	return p, nil
}

// writeSession writes s as JSON at path, atomically.
func writeSession(path string, s sessionFile) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the session: %w", err)
	}
	return fsutil.WriteBytesAtomic(path, append(data, '\n'))
}

// readSession reads the session file at path strictly: a version outside 1
// to sessionVersion, an unknown field or trailing data (which json.Unmarshal
// of the version refuses) is an error.
func readSession(path string) (sessionFile, error) {
	var s sessionFile
	data, err := fsutil.ReadRegular(path, maxSessionBytes)
	if err != nil {
		return s, err
	}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return s, fmt.Errorf("%s is not a session file (%v); open a %s file that advlab saved", filepath.Base(path), err, sessionExt)
	}
	if head.Version == nil || *head.Version < 1 || *head.Version > sessionVersion {
		v := "no version"
		if head.Version != nil {
			v = fmt.Sprintf("version %d", *head.Version)
		}
		return s, fmt.Errorf("%s has %s; this advlab reads session versions 1 to %d: open it with the advlab that saved it", filepath.Base(path), v, sessionVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%s is not a valid session file (%v); save the session again", filepath.Base(path), err)
	}
	for _, m := range s.Models {
		if m.Demo == (m.Path != "") {
			return s, fmt.Errorf("%s names a model that is neither the demo model nor a file; save the session again", filepath.Base(path))
		}
	}
	if e := s.Eval; e != nil {
		if e.Images < 0 || e.Images > 1<<24 || e.Placements < 0 {
			return s, fmt.Errorf("%s has an evaluation of %d images × %d placements; save the session again", filepath.Base(path), e.Images, e.Placements)
		}
		for _, c := range e.Curves {
			if len(c.Areas) == 0 || len(c.SuccessRate) != len(c.Areas) || (c.Control != nil && len(c.Control) != len(c.Areas)) {
				return s, fmt.Errorf("%s has an evaluation curve of %s whose scales and rates differ in number; save the session again", filepath.Base(path), c.Model)
			}
		}
	}
	if t := s.Training; t != nil {
		if err := t.check(); err != nil {
			return s, fmt.Errorf("%s has %v; save the session again", filepath.Base(path), err)
		}
	}
	if s.Images.Demo == (s.Images.Path != "") {
		return s, fmt.Errorf("%s names an image set that is neither the demo samples nor a folder; save the session again", filepath.Base(path))
	}
	return s, nil
}

func (wb *Workbench) saveSessionDialog() {
	wb.files.SaveFile("Save the session", "session"+sessionExt, wb.saveSession)
}

func (wb *Workbench) openSessionDialog() {
	wb.files.OpenFile("Open a session", []string{sessionExt}, wb.openSession)
}

// saveSession writes the workbench's state at path, off the UI goroutine.
func (wb *Workbench) saveSession(path string) {
	if filepath.Ext(path) == "" {
		path += sessionExt
	}
	s := wb.snapshotSession(path)
	end := wb.begin("Saving the session " + filepath.Base(path) + "…")
	wb.tasks.Go(func() {
		err := writeSession(path, s)
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.showError("Saving the session", err)
				return
			}
			wb.prefs.addRecent(prefRecentSessions, path)
			wb.win.SetMainMenu(wb.mainMenu())
			wb.setStatus("Saved the session " + filepath.Base(path) + " (attack results are not saved: run the attack again)")
		})
	})
}

// openSession reads the session at path and loads what it names off the UI
// goroutine. What does not open (a model or folder gone) is named in a
// dialog; the rest opens. The models open replace those loaded; when the
// image folder does not open, the current images stay.
func (wb *Workbench) openSession(path string) { wb.loadSession(path, nil) }

// loadSession is openSession, calling then (when not nil) on the UI
// goroutine at the end, with read false when the file was no session.
func (wb *Workbench) loadSession(path string, then func(read bool)) {
	if then == nil {
		then = func(bool) {}
	}
	end := wb.begin("Opening the session " + filepath.Base(path) + "…")
	wb.tasks.Go(func() {
		s, err := readSession(path)
		if err != nil {
			wb.tasks.ui(func() {
				end()
				wb.prefs.removeRecent(prefRecentSessions, path)
				wb.win.SetMainMenu(wb.mainMenu())
				wb.showError("Opening the session "+filepath.Base(path), err)
				then(false)
			})
			return
		}
		dir := filepath.Dir(path)
		ctx := context.Background()
		var missing []error
		var models []Model
		var defenses []string // of models, to apply once the images (a detector's calibration set) are in
		selected := -1
		for i, sm := range s.Models {
			var m Model
			var err error
			if sm.Demo {
				m, err = wb.be.DemoModel(ctx)
			} else {
				m, err = wb.be.LoadModel(ctx, resolvePath(dir, sm.Path))
			}
			if err != nil {
				missing = append(missing, fmt.Errorf("the model %s did not open: %w", resolvePath(dir, sm.Path), err))
				continue
			}
			if i == s.Selected || selected < 0 {
				selected = len(models)
			}
			models = append(models, m)
			defenses = append(defenses, sm.Defense)
		}
		var set *ImageSet
		var thumbs []image.Image
		imagesPath := resolvePath(dir, s.Images.Path)
		if s.Images.Demo {
			set, err = wb.be.DemoImages(ctx)
		} else {
			set, err = wb.be.LoadImages(ctx, imagesPath)
		}
		if err != nil {
			missing = append(missing, fmt.Errorf("the images %s did not open (the current images stay): %w", imagesPath, err))
			set = nil
		} else {
			thumbs = makeThumbs(set)
		}
		missing = append(missing, wb.defendAll(ctx, models, defenses, set)...)
		var p *imgops.Patch
		if s.Patch != nil {
			if p, err = s.Patch.decode(); err != nil {
				missing = append(missing, fmt.Errorf("the patch did not open: %w", err))
			}
		}
		wb.tasks.ui(func() {
			end()
			defer then(true)
			wb.applySession(s, dir, models, selected, set, imagesPath, thumbs, p)
			if unknown := wb.unknownParams(s.Params); len(unknown) > 0 {
				missing = append(missing, fmt.Errorf("parameters this advlab does not have were left out: %s", strings.Join(unknown, ", ")))
			}
			wb.prefs.addRecent(prefRecentSessions, path)
			wb.win.SetMainMenu(wb.mainMenu())
			if len(missing) > 0 {
				wb.showError("Opening the session "+filepath.Base(path), fmt.Errorf("%w\n\nThe rest of the session opened", errors.Join(missing...)))
				return
			}
			wb.setStatus("Opened the session " + filepath.Base(path) + " (run the attack again to see its results)")
		})
	})
}

// applySession puts the loaded parts of s into the workbench, on the UI
// goroutine.
func (wb *Workbench) applySession(s sessionFile, dir string, models []Model, selected int, set *ImageSet, imagesPath string, thumbs []image.Image, p *imgops.Patch) {
	for _, cancel := range []func(){wb.train.stop, wb.attackPanel.stopIfRunning, wb.eval.stopIfRunning} {
		cancel()
	}
	for _, m := range wb.models {
		m := m
		wb.tasks.Go(func() { wb.be.CloseModel(m) })
	}
	wb.models, wb.selected = models, selected
	wb.history.quietly(wb.refreshModels)
	if set != nil {
		wb.imagesPath = ""
		if !s.Images.Demo {
			wb.imagesPath = imagesPath
		}
		wb.setImages(set, thumbs)
		if s.Current >= 0 && s.Current < len(set.Samples) {
			wb.selectImage(s.Current)
		}
	}
	if p != nil {
		wb.setPatch(p, s.Patch.Meta)
	}
	wb.view.SetPlacement(s.Placement)
	wb.history.quietly(func() {
		for _, f := range wb.sessionFields() {
			if v, ok := s.Params[f.key]; ok {
				if f.path {
					v = resolvePath(dir, v)
				}
				f.set(v)
			}
		}
	})
	wb.history.clear()
	wb.eval.measured, wb.eval.curves = EvalRequest{}, nil
	if e := s.Eval; e != nil {
		// The images are not kept; the request's Samples only count them.
		wb.eval.measured = EvalRequest{Target: e.Target, Areas: e.Areas, Samples: make([]Sample, e.Images),
			Placements: e.Placements, MaxAngleDeg: e.MaxAngleDeg, Seed: e.Seed}
	}
	wb.eval.SetCurves(evalCurvesOf(s.Eval))
	wb.train.restoreTraining(s.Training)
	wb.compare.restoreAttack(s.Attack)
	wb.refreshFit()
}

func evalCurvesOf(e *sessionEval) []EvalCurve {
	if e == nil {
		return nil
	}
	return e.Curves
}

// unknownParams returns the keys of params no field of the workbench has.
func (wb *Workbench) unknownParams(params map[string]string) []string {
	known := map[string]bool{}
	for _, f := range wb.sessionFields() {
		known[f.key] = true
	}
	var out []string
	for k := range params {
		if !known[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
