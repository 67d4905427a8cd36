package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// menuItem finds the item labelled label in the window's menu named menu.
func menuItem(t *testing.T, w fyne.Window, menu, label string) *fyne.MenuItem {
	t.Helper()
	mm := w.MainMenu()
	if mm == nil {
		t.Fatal("the window has no main menu")
	}
	for _, m := range mm.Items {
		if m.Label != menu {
			continue
		}
		for _, it := range m.Items {
			if it.Label == label {
				return it
			}
		}
	}
	t.Fatalf("no menu item %s › %s", menu, label)
	return nil
}

// closeDialogs removes every overlay (open dialogs) from the window.
func closeDialogs(w fyne.Window) {
	for top := w.Canvas().Overlays().Top(); top != nil; top = w.Canvas().Overlays().Top() {
		w.Canvas().Overlays().Remove(top)
	}
}

// TestMenuAndToolbarActions checks that each action of the menu
// (open model, image folder, patch; export; about; and the rest of File and
// Run) does what its label says, from the menu and, where it has one, from
// the toolbar button.
func TestMenuAndToolbarActions(t *testing.T) {
	tests := []struct {
		menu, item string
		tool       int // index of its toolbar button, -1 when it has none
		// asks is what the file chooser was asked ("" when none), dialog a
		// text the dialog shown must contain ("" when none).
		asks, dialog string
		running      bool // a task was started
	}{
		{"File", "Open model…", 0, "open Open a model", "", false},
		{"File", "Open image folder…", 1, "folder Open an image folder", "", false},
		{"File", "Open patch…", 2, "open Open a patch", "", false},
		{"File", "Export patch for printing…", 6, "", "dpi", false},
		{"File", "Save patch…", 3, "save patch.png", "", false},
		{"File", "Save adversarial images…", -1, "", "run an attack", false},
		{"File", "Save comparison as PNG…", -1, "", "run an attack", false},
		{"Run", "Start / stop", 5, "", "", true},
		{"Help", "About advlab", 9, "", "Ctrl+Shift+O", false},
	}
	for _, tc := range tests {
		t.Run(tc.item, func(t *testing.T) {
			be := newFakeBackend()
			be.stepDelay = 50 * time.Millisecond
			wb, files := newTestWorkbench(t, be)
			actions := map[string]func(){"menu": menuItem(t, wb.win, tc.menu, tc.item).Action}
			if tc.tool >= 0 {
				a, ok := wb.tools.Items[tc.tool].(*tipAction)
				if !ok {
					t.Fatalf("toolbar item %d is a %T", tc.tool, wb.tools.Items[tc.tool])
				}
				actions["toolbar"] = a.button.OnTapped
			}
			for from, act := range actions {
				files.asked = nil
				act()
				wb.tasks.RunQueued() // errors reach their dialog through the UI queue
				if tc.asks == "" && len(files.asked) > 0 {
					t.Errorf("%s: asked the file chooser %q", from, files.asked)
				}
				if tc.asks != "" && (len(files.asked) != 1 || !strings.HasPrefix(files.asked[0], tc.asks)) {
					t.Errorf("%s: asked %q; want %q", from, files.asked, tc.asks)
				}
				msg := topDialogText(wb.win)
				if tc.dialog == "" && msg != "" {
					t.Errorf("%s: unexpected dialog %q", from, msg)
				}
				if tc.dialog != "" && !strings.Contains(msg, tc.dialog) {
					t.Errorf("%s: dialog %q; want one saying %q", from, msg, tc.dialog)
				}
				if wb.train.running != tc.running {
					t.Errorf("%s: training running = %v", from, wb.train.running)
				}
				wb.train.stop()
				wb.tasks.Wait()
				closeDialogs(wb.win)
			}
		})
	}
}

// TestRecentFilesMenu opens a model, a folder and a patch, and checks that
// File › Open recent lists them (newest first within each kind) in a new
// session on the same preferences, that choosing one opens it again, and
// that one which no longer opens leaves the list.
func TestRecentFilesMenu(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	// One after another, as a user opens them: loads run concurrently and
	// each file enters the list when it has opened.
	for _, open := range []func(){
		func() { wb.openModel("/m/a.onnx") },
		func() { wb.openModel("/m/b.onnx") },
		func() { wb.openImages("/photos/set") },
		func() { wb.openPatch("/p/patch.png") },
	} {
		open()
		wb.tasks.Wait()
	}

	again := newWorkbench(wb.app, test.NewTempWindow(t, nil), be)
	again.tasks.manualLoop()
	again.start(nil)
	again.tasks.Wait()
	recent := menuItem(t, again.win, "File", "Open recent").ChildMenu
	var labels []string
	for _, it := range recent.Items {
		labels = append(labels, it.Label)
	}
	want := []string{"b.onnx  —  /m", "a.onnx  —  /m", "set  —  /photos", "patch.png  —  /p"}
	if strings.Join(labels, "|") != strings.Join(want, "|") {
		t.Fatalf("Open recent lists %q; want %q", labels, want)
	}

	be.mu.Lock()
	before := len(be.loaded)
	be.mu.Unlock()
	recent.Items[1].Action() // a.onnx
	again.tasks.Wait()
	if len(again.models) != 2 || be.loaded[before] != "/m/a.onnx" {
		t.Fatalf("choosing a.onnx: %d models, loaded %q", len(again.models), be.loaded[before:])
	}
	if got := again.prefs.recent(prefRecentModels); got[0] != "/m/a.onnx" {
		t.Errorf("recent models %q; want a.onnx first now", got)
	}

	be.loadErr = errBoom // the folder has gone
	menuItem(t, again.win, "File", "Open recent").ChildMenu.Items[2].Action()
	again.tasks.Wait()
	if got := again.prefs.recent(prefRecentFolders); len(got) != 0 {
		t.Errorf("recent folders %q; want the one that failed gone", got)
	}
	if msg := topDialogText(again.win); !strings.Contains(msg, "boom") {
		t.Errorf("dialog %q", msg)
	}
}

// TestToolbarIconsAreDistinct checks that no two toolbar buttons share an
// icon, and that the toolbar's Fit (the view) does not look like the
// placement bar's reset (the patch).
func TestToolbarIconsAreDistinct(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	byIcon := map[string]string{}
	var fit *tipButton
	for _, it := range wb.tools.Items {
		a, ok := it.(*tipAction)
		if !ok {
			continue
		}
		b := a.button
		if b.Icon == nil {
			t.Errorf("the button %q has no icon", b.tip)
			continue
		}
		// By content: two names may draw the same picture.
		if other, dup := byIcon[string(b.Icon.Content())]; dup {
			t.Errorf("%q and %q share the icon %s", other, b.tip, b.Icon.Name())
		}
		byIcon[string(b.Icon.Content())] = b.tip
		if strings.HasPrefix(b.tip, "Fit the canvas") {
			fit = b
		}
	}
	if len(byIcon) < 8 {
		t.Fatalf("%d toolbar buttons found; want every one", len(byIcon))
	}
	if fit == nil {
		t.Fatal("no Fit button in the toolbar")
	}
	if string(fit.Icon.Content()) == string(wb.placeBar.reset.Icon.Content()) {
		t.Errorf("Fit and the placement's reset share the icon %s", fit.Icon.Name())
	}
}

// TestViewMenuTogglesSaliency checks that View › Saliency overlay shows its
// Ctrl+H shortcut, turns the overlay on and off as the check and the
// shortcut do, and that the About dialog's list names the shortcut.
func TestViewMenuTogglesSaliency(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	it := menuItem(t, wb.win, "View", "Saliency overlay")
	if it.Shortcut == nil || it.Shortcut.ShortcutName() != scSaliency.ShortcutName() {
		t.Errorf("the item's shortcut is %v; want Ctrl+H (%s)", it.Shortcut, scSaliency.ShortcutName())
	}
	for _, want := range []bool{true, false} {
		it.Action()
		wb.tasks.Wait()
		if wb.overlay.check.Checked != want {
			t.Errorf("after the menu item the overlay is on=%v; want %v", wb.overlay.check.Checked, want)
		}
	}
	wb.win.Canvas().(fyne.Shortcutable).TypedShortcut(scSaliency)
	wb.tasks.Wait()
	if !wb.overlay.check.Checked {
		t.Error("Ctrl+H after the menu item did not turn the overlay on")
	}
	if !strings.Contains(shortcutHelp, "Ctrl+H") {
		t.Error("the About dialog's shortcuts do not list Ctrl+H")
	}
}
