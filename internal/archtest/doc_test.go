package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestPackageComments checks that every package says what it is for in a
// comment that starts "Package <name>" ("Command <name>" for a command).
func TestPackageComments(t *testing.T) {
	_, pkgs, _ := loadModule(t)
	for ip, p := range pkgs {
		if len(p.Files) == 0 {
			continue
		}
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command "
		}
		found := false
		for _, f := range p.Files {
			if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s has no package comment starting %q", ip, want)
		}
	}
}

// undocumented returns a line for every exported name of f (functions,
// methods of exported types, types, constants and variables) whose doc
// comment is missing or does not start with the name. In a group of
// constants or variables the group's comment covers the names it holds.
func undocumented(fset *token.FileSet, f *ast.File) []string {
	var out []string
	check := func(pos token.Pos, name string, doc *ast.CommentGroup) {
		if !ast.IsExported(name) {
			return
		}
		text := ""
		if doc != nil {
			text = doc.Text()
		}
		if first, _, _ := strings.Cut(strings.TrimSpace(text), " "); first != name {
			got := "no comment"
			if text != "" {
				got = "its comment starts " + strings.Fields(text)[0]
			}
			out = append(out, fset.Position(pos).String()+": "+name+": "+got)
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil && !ast.IsExported(receiverType(d.Recv)) {
				continue
			}
			check(d.Pos(), d.Name.Name, d.Doc)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					doc := s.Doc
					if doc == nil && !d.Lparen.IsValid() {
						doc = d.Doc
					}
					check(s.Pos(), s.Name.Name, doc)
				case *ast.ValueSpec:
					if d.Lparen.IsValid() && d.Doc != nil && s.Doc == nil {
						continue // the group's comment covers it
					}
					doc := s.Doc
					if doc == nil {
						doc = d.Doc
					}
					for _, n := range s.Names {
						if doc != nil && len(s.Names) > 1 && strings.HasPrefix(doc.Text(), s.Names[0].Name+" ") {
							break // "A and B are …"
						}
						check(n.Pos(), n.Name, doc)
					}
				}
			}
		}
	}
	return out
}

// receiverType is the name of a method's receiver type, without pointer or
// type parameters.
func receiverType(recv *ast.FieldList) string {
	e := recv.List[0].Type
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// TestExportedNamesHaveDocComments checks every exported name of the
// module's non-test files: its doc comment starts with its name, so that a
// comment left behind by a rename ("LoadModel reads…" above Load) shows.
func TestExportedNamesHaveDocComments(t *testing.T) {
	_, pkgs, fset := loadModule(t)
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, line := range undocumented(fset, f) {
				t.Error(line)
			}
		}
	}
}

// TestUndocumentedFindsStaleComments feeds the checker a file with a
// renamed function, a missing comment, an unexported receiver's method and
// grouped constants, documented or not.
func TestUndocumentedFindsStaleComments(t *testing.T) {
	src := `package p

// LoadModel reads a model.
func Load() {}

func Close() {}

type hidden struct{}

func (hidden) Name() string { return "" }

// Kind is a kind.
type Kind int

// Kinds of things.
const (
	KindA Kind = iota
	KindB
)

const (
	// KindC is documented.
	KindC Kind = 3
	KindD Kind = 4
)

// W and H are sizes.
var W, H int
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"p.go:4:1: Load: its comment starts LoadModel",
		"p.go:6:1: Close: no comment",
		"p.go:24:2: KindD: no comment",
	}
	if got := undocumented(fset, f); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
