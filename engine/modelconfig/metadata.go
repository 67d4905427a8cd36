package modelconfig

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// metadataKeys are the sidecar keys FromMetadata reads from individual
// metadata properties, with the kind of value a comma list stands for.
var metadataKeys = map[string]listKind{
	"labels": stringList, "input_range": numberList, "mean": numberList, "std": numberList,
	"input_size": numberList, "image_shape": numberList, "crop_fraction": numberScalar,
	"layout": stringScalar, "channel_order": stringScalar, "preset": stringScalar, "output": stringScalar,
	"resize": stringScalar, "flatten_order": stringScalar, "name": stringScalar,
}

// listKind is what a plainly written (non-JSON) property stands for.
type listKind int

const (
	stringScalar listKind = iota
	numberScalar
	stringList
	numberList
)

// FromMetadata reads a configuration from an ONNX model's metadata_props:
// either one "advlab" property holding the whole sidecar JSON, or individual
// properties (labels, input_range, mean, std, input_size, image_shape, layout,
// channel_order, preset, output, resize, crop_fraction, flatten_order, name),
// each a JSON value or a comma-separated list such as "0.5, 0.5, 0.5". Values
// are checked as strictly as a sidecar's; other properties, which exporters
// add freely, are ignored unless they look like a misspelt key. An empty map
// gives the zero Config.
func FromMetadata(props map[string]string) (Config, error) {
	c, err := fromMetadata(props)
	c.Source = "metadata"
	return c, err
}

func fromMetadata(props map[string]string) (Config, error) {
	if v, ok := props["advlab"]; ok {
		var others []string
		for k := range props {
			if _, known := metadataKeys[k]; known {
				others = append(others, k)
			}
		}
		if len(others) > 0 {
			sort.Strings(others)
			return Config{}, fmt.Errorf("the model's metadata has an \"advlab\" property and also %s; put everything in \"advlab\"", strings.Join(others, ", "))
		}
		return parse([]byte(v), "", "the model's \"advlab\" metadata property")
	}
	names := make([]string, 0, len(metadataKeys))
	for k := range metadataKeys {
		names = append(names, k)
	}
	sort.Strings(names)
	props2 := make([]string, 0, len(props))
	for k := range props {
		props2 = append(props2, k)
	}
	sort.Strings(props2) // deterministic: the first bad property is always the same
	var c Config
	for _, k := range props2 {
		raw := props[k]
		kind, ok := metadataKeys[k]
		if !ok {
			if s := closest(k, names); s != "" && looksMisspelt(k, s) {
				return Config{}, fmt.Errorf("the model's metadata property %q is not one advlab reads (did you mean %q?); rename it", SanitizeLabel(k), s)
			}
			continue
		}
		if len(raw) > MaxConfigBytes {
			return Config{}, fmt.Errorf("metadata property %q is %d bytes, more than advlab's limit of %d", k, len(raw), MaxConfigBytes)
		}
		v, err := metadataValue(raw, kind)
		if err != nil {
			return Config{}, fmt.Errorf("metadata property %q = %q: %v", k, clip(raw), err)
		}
		if err := keys[k](&c, k, v, ""); err != nil {
			return Config{}, fmt.Errorf("metadata property: %w", err)
		}
	}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("the model's metadata: %w", err)
	}
	return c, nil
}

// looksMisspelt is stricter than closest, because metadata holds keys of
// other tools: only a near-identical spelling (case, separators, one edit in a
// longer key) counts as a typo of ours.
func looksMisspelt(k, known string) bool {
	d := editDistance(normalizeKey(k), normalizeKey(known))
	return d == 0 || (d == 1 && len(known) >= 4)
}

func normalizeKey(s string) string {
	return strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// metadataValue decodes a property as JSON, or else as kind written plainly:
// a bare string, or a comma list with optional brackets.
func metadataValue(raw string, kind listKind) (any, error) {
	s := strings.TrimSpace(raw)
	if json.Valid([]byte(s)) {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, isString := v.(string); isString || kind != stringScalar {
			return v, nil
		}
	}
	switch kind {
	case stringScalar:
		return strings.Trim(s, `"'`), nil
	case numberScalar:
		return nil, fmt.Errorf("not a finite number")
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if s == "" {
		return nil, fmt.Errorf("it is empty; give a value or remove the property")
	}
	var out []any
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if kind == stringList {
			out = append(out, strings.Trim(f, `"'`))
			continue
		}
		var n json.Number
		if !json.Valid([]byte(f)) || json.Unmarshal([]byte(f), &n) != nil {
			return nil, fmt.Errorf("value %d, %q, is not a finite number; write e.g. 0.5, 0.5, 0.5", i+1, clip(f))
		}
		out = append(out, n)
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
