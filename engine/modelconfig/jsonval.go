package modelconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// field is one key of a JSON object, in the order it appeared.
type field struct {
	key string
	val any // decoded with UseNumber: json.Number, string, bool, []any, map[string]any
}

// decodeObject reads data as one JSON object and returns its keys in order,
// refusing duplicate keys, a value that is not an object and trailing data.
func decodeObject(data []byte, what string) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s is not valid JSON (%v); it must be one object such as {\"labels\": [\"cat\", \"dog\"]}", what, jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s must be a JSON object {...}, not %s", what, describeToken(tok))
	}
	var out []field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s is not valid JSON: %v", what, jsonErr(err))
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%s is not valid JSON: expected a key, found %s", what, describeToken(tok))
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			hint := ""
			if m := err.Error(); strings.Contains(m, "character 'N'") || strings.Contains(m, "character 'I'") {
				hint = "; JSON has no NaN or Infinity, give a finite number"
			}
			return nil, fmt.Errorf("%s: key %q has no valid JSON value: %v%s", what, key, jsonErr(err), hint)
		}
		if seen[key] {
			return nil, fmt.Errorf("%s gives key %q twice; keep one", what, key)
		}
		seen[key] = true
		out = append(out, field{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %v", what, jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s has more after its closing brace; it must hold exactly one JSON object", what)
	}
	return out, nil
}

// jsonErr makes decoder errors one line and names an unexpected end plainly.
func jsonErr(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

func describeToken(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "a list"
		}
		return fmt.Sprintf("%q", string(t))
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// describe names a decoded value's JSON type for error messages.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return fmt.Sprintf("the string %q", t)
	case json.Number:
		return "the number " + string(t)
	case bool:
		return fmt.Sprintf("%v", t)
	case []any:
		return fmt.Sprintf("a list of %d values", len(t))
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// number reads a finite JSON number as float64.
func number(key string, v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("key %q: want a number, got %s", key, describe(v))
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("key %q: %s is out of range; give a finite number", key, n)
	}
	return f, nil
}

// float32Value reads a number that must also be finite as a float32.
func float32Value(key string, v any) (float32, error) {
	f, err := number(key, v)
	if err != nil {
		return 0, err
	}
	if math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("key %q: %v does not fit in float32; give a finite number below 3.4e38", key, f)
	}
	return float32(f), nil
}

// integer reads a JSON number that must be a whole number in [lo, hi].
func integer(key string, v any, lo, hi int64) (int64, error) {
	f, err := number(key, v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("key %q: %v must be a whole number from %d to %d", key, f, lo, hi)
	}
	return int64(f), nil
}

// list returns v as a list; with scalarOK a single value counts as a list of one.
func list(key string, v any, scalarOK bool, lo, hi int) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		if !scalarOK {
			return nil, fmt.Errorf("key %q: want a list, got %s", key, describe(v))
		}
		l = []any{v}
	}
	if len(l) < lo || len(l) > hi {
		if lo == hi {
			return nil, fmt.Errorf("key %q: want exactly %d values, got %d", key, lo, len(l))
		}
		return nil, fmt.Errorf("key %q: want %d to %d values, got %d", key, lo, hi, len(l))
	}
	return l, nil
}

// float32s reads a list (or, with scalarOK, one number) of finite float32s.
func float32s(key string, v any, scalarOK bool, lo, hi int) ([]float32, error) {
	l, err := list(key, v, scalarOK, lo, hi)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(l))
	for i, e := range l {
		if out[i], err = float32Value(key, e); err != nil {
			return nil, fmt.Errorf("key %q, value %d: %w", key, i+1, unwrapKey(err))
		}
	}
	return out, nil
}

// unwrapKey drops the `key "x": ` prefix of a value error, to re-prefix it.
func unwrapKey(err error) error {
	s := err.Error()
	if i := strings.Index(s, "\": "); strings.HasPrefix(s, "key \"") && i > 0 {
		return errors.New(s[i+3:])
	}
	return err
}

// str reads a JSON string.
func str(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("key %q: want a string, got %s", key, describe(v))
	}
	return s, nil
}

// choice reads a string that must be one of the allowed values; case is ignored
// and the canonical spelling returned.
func choice(key string, v any, allowed ...string) (string, error) {
	s, err := str(key, v)
	if err != nil {
		return "", err
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(s), a) {
			return a, nil
		}
	}
	return "", fmt.Errorf("key %q: %q is not one of %s", key, s, strings.Join(quoteAll(allowed), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// closest returns the candidate nearest to s by edit distance, ignoring case
// and treating - and space as _, when it is near enough to be a likely typo.
func closest(s string, candidates []string) string {
	norm := func(x string) string {
		return strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(x))
	}
	ns := norm(s)
	if ns == "" {
		return ""
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(ns, norm(c)); d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len([]rune(ns)) <= 3 {
		limit = 1
	}
	if len([]rune(ns)) >= 8 {
		limit = 3
	}
	if bestD > limit && !strings.HasPrefix(norm(best), ns) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 { // keys that long are no typo of ours
		return 1 << 20
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
