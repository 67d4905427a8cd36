package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "export",
		summary: "export a patch to print at an exact physical size (PDF or PNG)",
		run:     runExport,
	})
}

const exportUsage = "PATCH.png --size 5cm [--dpi 300] [--paper a4|letter] [--palette FILE] -o OUT.pdf|OUT.png"

// runExport writes a patch file as a printable PDF page (exact size, cut
// marks, caption, scale bar, reference swatches) or as a PNG whose pHYs
// carries the resolution.
func runExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "export", exportUsage)
	size := fs.String("size", "", "the patch's longer side on paper: cm, mm or in (e.g. 5cm, 50mm, 2in)")
	dpi := fs.Float64("dpi", 300, "resolution the patch is resampled to, in dots per inch")
	paper := fs.String("paper", "a4", "PDF sheet: a4 or letter")
	palette := fs.String("palette", "", "palette file for the PDF's reference swatches (text of R,G,B lines 0-255, or a PNG of swatches); default: advlab's 30 colours")
	out := fs.String("o", "", "output file: OUT.pdf or OUT.png")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("want the patch file to export: advlab export %s", exportUsage)
	case len(pos) > 1:
		return usagef("want one patch file, got %d (%s)", len(pos), strings.Join(pos, " "))
	case *size == "":
		return usagef("--size is required: the patch's longer side on paper, e.g. --size 5cm")
	case *out == "":
		return usagef("-o is required: OUT.pdf or OUT.png")
	case !(*dpi >= 50 && *dpi <= 2400):
		return usagef("--dpi %v: use 50 to 2400", *dpi)
	}
	sizeMM, err := imgops.ParseLength(*size)
	if err != nil {
		return usagef("--size %s: %v", *size, err)
	}
	pap, err := imgops.ParsePaper(*paper)
	if err != nil {
		return usagef("--paper %s: use a4 or letter", *paper)
	}
	format := strings.ToLower(filepath.Ext(*out))
	if format != ".pdf" && format != ".png" {
		return usagef("-o %s: unknown format; name the output .pdf or .png", *out)
	}
	if err := checkOutputs(fsutil.Outputs{Inputs: []fsutil.Path{{Flag: "the patch", Path: pos[0]}, {Flag: "--palette", Path: *palette}},
		Files: []fsutil.Path{{Flag: "-o", Path: *out}}}); err != nil {
		return err
	}
	opts := imgops.PrintOptions{SizeMM: sizeMM, DPI: *dpi, Paper: pap}
	if *palette != "" {
		if opts.Palette, err = imgops.LoadPalette(*palette); err != nil {
			return err
		}
	}
	patch, meta, err := imgops.LoadPatch(pos[0])
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if format == ".pdf" {
		err = imgops.WritePDF(*out, patch, meta, opts)
	} else {
		err = imgops.WritePrintPNG(*out, patch, meta, opts)
	}
	if err != nil {
		return err
	}
	wMM, hMM, wPx, hPx := imgops.PrintSize(patch, opts)
	where := ""
	if format == ".pdf" {
		where = " on " + strings.ToUpper(string(pap))
	}
	fmt.Fprintf(env.Stdout, "wrote %s: %.1f×%.1f mm patch, %d×%d px at %g dpi%s\n", *out, wMM, hMM, wPx, hPx, *dpi, where)
	return nil
}
