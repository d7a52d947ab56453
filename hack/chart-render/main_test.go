package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeChart lays out a chart in a temporary directory: files maps paths
// (relative to the chart) to contents; Chart.yaml defaults to chart "t".
func writeChart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["Chart.yaml"]; !ok {
		files["Chart.yaml"] = "apiVersion: v2\nname: t\nversion: 0.1.0\nappVersion: \"1.0\"\n"
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func render(t *testing.T, dir string, args ...string) (*Result, error) {
	t.Helper()
	o, err := ParseArgs(append([]string{dir}, args...))
	if err != nil {
		t.Fatalf("ParseArgs: %v", err)
	}
	var warn bytes.Buffer
	return Render(o, strings.NewReader(""), &warn)
}

func TestParseSet(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]interface{}
		err  string
	}{
		{in: "a.b.c=1", want: map[string]interface{}{"a": map[string]interface{}{"b": map[string]interface{}{"c": int64(1)}}}},
		{in: "x=true,y=FALSE,z=null", want: map[string]interface{}{"x": true, "y": false, "z": nil}},
		{in: "zero=0,lead=007,neg=-3,f=1.5,s=abc", want: map[string]interface{}{"zero": int64(0), "lead": "007", "neg": int64(-3), "f": "1.5", "s": "abc"}},
		{in: "empty=", want: map[string]interface{}{"empty": ""}},
		{in: `esc=a\,b,dot\.key=v`, want: map[string]interface{}{"esc": "a,b", "dot.key": "v"}},
		{in: "l={a,2,true}", want: map[string]interface{}{"l": []interface{}{"a", int64(2), true}}},
		{in: "l={a,b},n=1", want: map[string]interface{}{"l": []interface{}{"a", "b"}, "n": int64(1)}},
		{in: "arr[1]=x", want: map[string]interface{}{"arr": []interface{}{nil, "x"}}},
		{in: "arr[0].name=n,arr[0].v=2", want: map[string]interface{}{"arr": []interface{}{map[string]interface{}{"name": "n", "v": int64(2)}}}},
		{in: "dsn=host=pg dbname=k", want: map[string]interface{}{"dsn": "host=pg dbname=k"}},
		{in: "a", err: `key "a" has no value`},
		{in: "a,b=1", err: `key "a" has no value (cannot end with ,)`},
		{in: "arr[-1]=x", err: "negative -1 index not allowed"},
	}
	for _, tc := range tests {
		got := map[string]interface{}{}
		err := ParseSet(tc.in, got, typedVal)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseSet(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSet(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSet(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}

	// --set-string keeps every value a string.
	got := map[string]interface{}{}
	if err := ParseSet("a=1,b=true", got, func(s string) (interface{}, error) { return s, nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]interface{}{"a": "1", "b": "true"}) {
		t.Errorf("--set-string: got %#v", got)
	}

	// --set over an existing value replaces a scalar by a table.
	got = map[string]interface{}{"a": "scalar", "keep": 1}
	if err := ParseSet("a.b=2", got, typedVal); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]interface{}{"a": map[string]interface{}{"b": int64(2)}, "keep": 1}) {
		t.Errorf("set over scalar: got %#v", got)
	}
}

func TestValuesMerge(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "one.yaml")
	f2 := filepath.Join(dir, "two.yaml")
	os.WriteFile(f1, []byte("image: {tag: v1, pullPolicy: Always}\nlist: [1, 2]\nnested: {a: 1, b: 2}\n"), 0o644)
	os.WriteFile(f2, []byte("image: {tag: v2}\nlist: [3]\nnested: {b: null}\n"), 0o644)
	o := &Options{ValueFiles: []string{f1, f2}, SetValues: []string{"image.repository=r,replicas=3"}, SetStrings: []string{"port=80"}}
	user, err := UserValues(o, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]interface{}{
		"image":    map[string]interface{}{"repository": "def", "tag": "", "pullPolicy": "IfNotPresent"},
		"replicas": float64(1),
		"nested":   map[string]interface{}{"a": float64(0), "b": float64(0), "c": float64(0)},
		"only":     "default",
		"table":    map[string]interface{}{"x": "y"},
	}
	var warnings []string
	got := Coalesce(user, defaults, func(s string) { warnings = append(warnings, s) })
	want := map[string]interface{}{
		// -f files deep-merge in order, --set wins over them, the chart's defaults fill in.
		"image":    map[string]interface{}{"repository": "r", "tag": "v2", "pullPolicy": "Always"},
		"list":     []interface{}{float64(3)}, // lists are replaced, not merged
		"nested":   map[string]interface{}{"a": float64(1), "c": float64(0)},
		"replicas": int64(3),
		"port":     "80",
		"only":     "default",
		"table":    map[string]interface{}{"x": "y"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged values:\n got %#v\nwant %#v", got, want)
	}
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings %q", warnings)
	}
	// The chart's defaults are not modified.
	if defaults["image"].(map[string]interface{})["tag"] != "" {
		t.Errorf("defaults were modified: %#v", defaults)
	}

	// A scalar over a table keeps the table and warns, as helm does.
	warnings = nil
	got = Coalesce(map[string]interface{}{"table": "scalar"}, map[string]interface{}{"table": map[string]interface{}{"x": "y"}}, func(s string) { warnings = append(warnings, s) })
	if got["table"] != "scalar" || len(warnings) != 1 {
		t.Errorf("scalar over table: %#v, warnings %q", got, warnings)
	}
}

func TestTemplateFunctions(t *testing.T) {
	helpers := `{{- define "t.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "t.fullname" -}}{{ printf "%s-%s" .Release.Name (include "t.name" .) }}{{- end -}}
{{- define "t.labels" -}}
app: {{ include "t.name" . }}
release: {{ .Release.Name }}
{{- end -}}
{{- define "t.count" -}}{{ if gt (int .) 0 }}{{ . }},{{ include "t.count" (sub (int .) 1) }}{{ else }}0{{ end }}{{- end -}}
`
	tests := []struct {
		name   string
		tpl    string
		values string
		args   []string
		want   string
	}{
		{name: "include", tpl: `name: {{ include "t.fullname" . }}`, want: "name: rel-t"},
		{name: "include recursive", tpl: `n: {{ include "t.count" 3 }}`, want: "n: 3,2,1,0"},
		{name: "include nindent", tpl: "labels:\n  {{- include \"t.labels\" . | nindent 2 }}", want: "labels:\n  app: t\n  release: rel"},
		{name: "toYaml nindent", tpl: "r:\n  {{- toYaml .Values.res | nindent 2 }}", values: "res: {limits: {cpu: 1, memory: 1Gi}, a: [p, q]}",
			want: "r:\n  a:\n  - p\n  - q\n  limits:\n    cpu: 1\n    memory: 1Gi"},
		{name: "tpl", tpl: `g: {{ tpl .Values.g . }}`, values: `g: "hi {{ .Release.Name }} {{ include \"t.name\" . }}"`, want: "g: hi rel t"},
		{name: "tpl define", tpl: `g: {{ tpl "{{ define \"x\" }}X{{ end }}{{ include \"x\" . }}" . }}`, want: "g: X"},
		{name: "default", tpl: `a: {{ .Values.a | default "d" }} b: {{ .Values.b | default "d" }}`, values: "a: set", want: "a: set b: d"},
		{name: "missing key is empty", tpl: `a: "{{ .Values.nope }}" b: "{{ .Values.m.nope }}"`, values: "m: {}", want: `a: "" b: ""`},
		{name: "range and with", tpl: `{{ range .Values.l }}[{{ . }}]{{ end }}{{ with .Values.w }}w={{ .x }}{{ end }}{{ with .Values.none }}no{{ end }}`,
			values: "l: [a, b]\nw: {x: 1}", want: "[a][b]w=1"},
		{name: "required passes", tpl: `a: {{ required "need a" .Values.a }}`, values: "a: 5", want: "a: 5"},
		{name: "set typing", tpl: `{{ kindOf .Values.i }} {{ kindOf .Values.b }} {{ kindOf .Values.s }}`, args: []string{"--set", "i=3,b=true,s=x"}, want: "int64 bool string"},
		{name: "yaml numbers are floats", tpl: `{{ .Values.num }} {{ .Values.big }} {{ kindOf .Values.num }}`, values: "num: 3\nbig: 1000000", want: "3 1e+06 float64"},
		// YAML 1.1, as helm reads it: y, n, yes, off are booleans, also as keys.
		{name: "yaml 1.1 booleans", tpl: `{{ .Values.a }} {{ .Values.b }} {{ index .Values "true" }}`, values: "a: y\nb: off\ny: key", want: "true false key"},
		{name: "json", tpl: `{{ toJson .Values.m }} {{ (fromJson "{\"a\":[1]}").a }} {{ (fromYaml "x: z").x }} {{ index (fromYamlArray "[p, q]") 1 }}`,
			values: "m: {b: 1, a: x}", want: `{"a":"x","b":1} [1] z q`},
		{name: "toToml", tpl: `{{ toToml .Values.m }}`, values: "m: {a: x}", want: "a = \"x\""},
		{name: "lookup is empty", tpl: `{{ len (lookup "v1" "Secret" "ns" "n") }}`, want: "0"},
		{name: "no env", tpl: `{{ if true }}ok{{ end }}`, want: "ok"},
		{name: "objects", tpl: `{{ .Release.Namespace }} {{ .Release.IsInstall }} {{ .Release.Revision }} {{ .Release.Service }} {{ .Chart.AppVersion }} {{ .Chart.Version }} {{ .Template.Name }} {{ .Template.BasePath }}`,
			want: "ns true 1 Helm 1.0 0.1.0 t/templates/x.yaml t/templates"},
		{name: "capabilities", tpl: `{{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.APIVersions.Has "apps/v1" }} {{ .Capabilities.APIVersions.Has "x.io/v1" }} {{ semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version }}`,
			want: "v1.20.2 1.20 true false false"},
		{name: "api-versions flag", tpl: `{{ .Capabilities.APIVersions.Has "x.io/v1" }} {{ .Capabilities.KubeVersion }}`, args: []string{"--api-versions", "x.io/v1", "--kube-version", "1.25"}, want: "true v1.25.0"},
		{name: "files", tpl: `{{ .Files.Get "files/a.txt" | trim }}|{{ range $p, $_ := .Files.Glob "files/*.txt" }}{{ $p }};{{ end }}|{{ .Files.Get "nope" }}`, want: "A|files/a.txt;files/b.txt;|"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeChart(t, map[string]string{
				"values.yaml":            tc.values,
				"templates/_helpers.tpl": helpers,
				"templates/x.yaml":       "# " + tc.tpl, // a comment keeps any output a valid document
				"files/a.txt":            "A\n",
				"files/b.txt":            "B\n",
			})
			res, err := render(t, dir, append([]string{"--release", "rel", "--namespace", "ns"}, tc.args...)...)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			want := "---\n# Source: t/templates/x.yaml\n# " + tc.want + "\n"
			if res.Manifests != want {
				t.Errorf("got:\n%s\nwant:\n%s", res.Manifests, want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  string
	}{
		{name: "required", files: map[string]string{"templates/x.yaml": "a: 1\nb: {{ required \"b is required\" .Values.b }}\n"},
			want: "execution error at (t/templates/x.yaml:2:6): b is required" + debugHint},
		{name: "required empty string", files: map[string]string{"values.yaml": "b: \"\"", "templates/x.yaml": "b: {{ required \"b is required\" .Values.b }}"},
			want: "execution error at (t/templates/x.yaml:1:6): b is required" + debugHint},
		{name: "required in a partial reports the including file", files: map[string]string{
			"templates/_h.tpl": "{{ define \"need\" }}{{ required \"need it\" .Values.x }}{{ end }}",
			"templates/x.yaml": "\n  v: {{ include \"need\" . }}"},
			want: "execution error at (t/templates/x.yaml:2:8): need it" + debugHint},
		{name: "required in tpl", files: map[string]string{"values.yaml": "s: '{{ required \"deep\" .Values.no }}'", "templates/x.yaml": "v: {{ tpl .Values.s . }}"},
			want: "execution error at (t/templates/x.yaml:1:6): deep" + debugHint},
		{name: "fail", files: map[string]string{"templates/x.yaml": "{{- if true }}{{ fail \"no way\" }}{{ end }}"},
			want: "execution error at (t/templates/x.yaml:1:17): no way" + debugHint},
		{name: "parse error", files: map[string]string{"templates/x.yaml": "a: {{ nosuchfunc }}"},
			want: "parse error at (t/templates/x.yaml:1): function \"nosuchfunc\" not defined" + debugHint},
		{name: "bad yaml", files: map[string]string{"templates/x.yaml": "a: b: c"},
			want: "YAML parse error on t/templates/x.yaml: error converting YAML to JSON: yaml: mapping values are not allowed in this context" + debugHint},
		{name: "kubeVersion", files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: t\nversion: 1.0.0\nkubeVersion: '>=1.22.0-0'\n"},
			want: "chart requires kubeVersion: >=1.22.0-0 which is incompatible with Kubernetes v1.20.2" + debugHint},
		{name: "no Chart.yaml version", files: map[string]string{"Chart.yaml": "apiVersion: v2\nname: t\n"},
			want: "validation: chart.metadata.version is required"},
		{name: "subcharts refused", files: map[string]string{"charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n"},
			want: "chart-render does not support subcharts (charts/ or dependencies in Chart.yaml); use helm for this chart"},
		{name: "show-only missing", files: map[string]string{"templates/x.yaml": "a: 1"}, args: []string{"-s", "templates/y.yaml"},
			want: "could not find template templates/y.yaml in chart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, writeChart(t, tc.files), tc.args...)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %q\nwant %q", err.Error(), tc.want)
			}
		})
	}

	// The command prints helm's "Error: ..." and exits 1.
	dir := writeChart(t, map[string]string{"templates/x.yaml": "b: {{ required \"b is required\" .Values.b }}"})
	var stdout, stderr bytes.Buffer
	if code := run([]string{dir}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.HasPrefix(stderr.String(), "Error: execution error at (t/templates/x.yaml:1:6): b is required\n") || stdout.Len() != 0 {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

func TestOutputOrder(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"crds/b.yaml":            "kind: CustomResourceDefinition\nmetadata: {name: b}\n",
		"crds/a.yaml":            "kind: CustomResourceDefinition\nmetadata: {name: a}\n",
		"crds/README.md":         "not a manifest",
		"templates/_helpers.tpl": "{{ define \"x\" }}unused{{ end }}",
		"templates/a.yaml":       "kind: Deployment\nmetadata: {name: d}\n---\nkind: Service\nmetadata: {name: s}\n---\nkind: Widget\nmetadata: {name: w}\n---\n",
		"templates/b.yaml":       "kind: ConfigMap\nmetadata: {name: c}\n---\nkind: Namespace\nmetadata: {name: n}\n",
		"templates/c.yaml":       "kind: Pod\nmetadata:\n  name: t\n  annotations: {helm.sh/hook: test}\n",
		"templates/d.yaml":       "kind: Job\nmetadata:\n  name: j\n  annotations: {helm.sh/hook: pre-install}\n",
		"templates/e.yaml":       "{{ if false }}kind: Secret{{ end }}",
		"templates/sub/f.yaml":   "kind: ConfigMap\nmetadata: {name: c2}",
		"templates/NOTES.txt":    "notes for {{ .Release.Name }}",
		"templates/.hidden.yaml": "kind: Secret",
		"templates/ignored.yaml": "kind: Secret",
		".helmignore":            "# comment\nignored.yaml\n",
	})
	res, err := render(t, dir, "--include-crds")
	if err != nil {
		t.Fatal(err)
	}
	want := `---
# Source: t/crds/a.yaml
kind: CustomResourceDefinition
metadata: {name: a}

---
# Source: t/crds/b.yaml
kind: CustomResourceDefinition
metadata: {name: b}

---
# Source: t/templates/b.yaml
kind: Namespace
metadata: {name: n}
---
# Source: t/templates/b.yaml
kind: ConfigMap
metadata: {name: c}
---
# Source: t/templates/sub/f.yaml
kind: ConfigMap
metadata: {name: c2}
---
# Source: t/templates/a.yaml
kind: Service
metadata: {name: s}
---
# Source: t/templates/a.yaml
kind: Deployment
metadata: {name: d}
---
# Source: t/templates/a.yaml
kind: Widget
metadata: {name: w}
---
# Source: t/templates/c.yaml
kind: Pod
metadata:
  name: t
  annotations: {helm.sh/hook: test}
---
# Source: t/templates/d.yaml
kind: Job
metadata:
  name: j
  annotations: {helm.sh/hook: pre-install}
`
	if res.Manifests != want {
		t.Errorf("got:\n%s\nwant:\n%s", res.Manifests, want)
	}
	if res.Notes != "notes for release-name" {
		t.Errorf("notes %q", res.Notes)
	}

	res, err = render(t, dir, "--skip-tests", "--show-only", "templates/d.yaml", "-s", "templates/a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want = "---\n# Source: t/templates/d.yaml\nkind: Job\nmetadata:\n  name: j\n  annotations: {helm.sh/hook: pre-install}\n" +
		"---\n# Source: t/templates/a.yaml\nkind: Service\nmetadata: {name: s}\n" +
		"---\n# Source: t/templates/a.yaml\nkind: Deployment\nmetadata: {name: d}\n" +
		"---\n# Source: t/templates/a.yaml\nkind: Widget\nmetadata: {name: w}\n"
	if res.Manifests != want {
		t.Errorf("show-only got:\n%s\nwant:\n%s", res.Manifests, want)
	}
}

// SplitManifests keeps helm's separator quirk: an empty document between two
// "---" lines leaves the second "---" at the start of the next document.
func TestSplitManifests(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{in: "a: 1\n---\nb: 2\n", want: []string{"a: 1", "b: 2"}},
		{in: "---\na: 1\n---  \n\n", want: []string{"a: 1"}},
		{in: "\n\n---\n# only a comment\n", want: []string{"# only a comment"}},
		{in: "a: 1\n---\n\n---\nb: 2", want: []string{"a: 1", "---\nb: 2"}},
		{in: "a: |\n  x --- y\nb: 2", want: []string{"a: |\n  x --- y\nb: 2"}},
		{in: " \n", want: nil},
	}
	for _, tc := range tests {
		if got := SplitManifests(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitManifests(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"rel", "./chart", "-n=ns", "-f", "a.yaml,b.yaml", "--values=c.yaml", "--set", "a=1", "--set=b=2", "--include-crds", "-s", "templates/x.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if o.ReleaseName != "rel" || o.ChartDir != "./chart" || o.Namespace != "ns" {
		t.Errorf("positional/namespace: %+v", o)
	}
	if !reflect.DeepEqual(o.ValueFiles, []string{"a.yaml", "b.yaml", "c.yaml"}) || !reflect.DeepEqual(o.SetValues, []string{"a=1", "b=2"}) {
		t.Errorf("values: %+v", o)
	}
	if !o.IncludeCRDs || !reflect.DeepEqual(o.ShowOnly, []string{"templates/x.yaml"}) || o.KubeVersion != defaultKubeVersion {
		t.Errorf("flags: %+v", o)
	}
	o, err = ParseArgs([]string{"./chart", "--release", "r", "--namespace", "n"})
	if err != nil || o.ReleaseName != "r" || o.Namespace != "n" || o.ChartDir != "./chart" {
		t.Errorf("ParseArgs: %+v %v", o, err)
	}
	if _, err := ParseArgs([]string{"./chart", "--bogus"}); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := ParseArgs(nil); err == nil {
		t.Error("missing chart accepted")
	}
}
