// chart-render renders a Helm chart directory the way `helm template` (Helm 3)
// does, for machines that have no helm binary. It is built only from Debian
// packages (Go, sprig v3, ghodss/yaml, yaml.v2, BurntSushi/toml, semver v3):
// hack/chart-render.sh installs them, builds this file into
// /var/cache/keystep/chart-render/chart-render and runs it.
//
// Usage:
//
//	chart-render CHART_DIR [--release NAME] [--namespace NS]
//	    [-f values.yaml ...] [--set k.path=v ...] [--set-string k=v ...]
//	    [--set-file k=path ...] [--show-only templates/x.yaml ...]
//	    [--include-crds] [--notes] [--kube-version v1.20.2]
//	    [--api-versions group/version ...] [--is-upgrade] [--no-hooks]
//	    [--skip-tests]
//
// `chart-render NAME CHART_DIR ...` (helm's argument order) works as well.
// Defaults: release "release-name", namespace "default", Kubernetes v1.20.2.
//
// What it does, as helm 3 does:
//   - values: the chart's values.yaml, then each -f file deep-merged in order,
//     then --set, --set-string and --set-file (helm's strvals syntax: a.b=c,
//     a[0]=x, a={x,y}, backslash escapes; true/false/null/ints are typed).
//     A null removes a chart default. Numbers read from YAML are float64, as
//     helm reads them (so 1000000 prints as 1e+06, like helm).
//   - objects: .Values .Release .Chart .Capabilities .Template .Files.
//   - functions: sprig's TxtFuncMap without env/expandenv, plus include, tpl,
//     required, fail, toYaml, fromYaml, fromYamlArray, toJson, fromJson,
//     fromJsonArray, toToml, lookup (always an empty map); getHostByName
//     returns "" (helm without --enable-dns).
//   - all files under templates/ are parsed into one template set (so a
//     define in any file can be included anywhere), files named _* are not
//     output, NOTES.txt only goes to stderr with --notes, "<no value>" is
//     blanked, missing keys render empty.
//   - output: documents split on ---, empty ones dropped, sorted by helm's
//     install order of kinds (stable: files by path, documents in file
//     order), each preceded by "---\n# Source: <chart>/templates/<file>";
//     hooks (helm.sh/hook) after them; crds/ files first with --include-crds;
//     --show-only keeps the documents of matching templates (a glob).
//   - errors print "Error: ..." to stderr and exit 1; a failed required or
//     fail prints "Error: execution error at (<chart>/templates/x.yaml:L:C):
//     <message>" followed, like helm, by "Use --debug flag to render out
//     invalid YAML".
//
// Not supported (exits with an error instead of rendering wrongly):
// subcharts (charts/ or Chart.yaml dependencies) and library charts.
// Not done: values.schema.json validation (a warning is printed), --set-json,
// --set-literal, --output-dir, post-renderers, lookup against a cluster.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"
	"github.com/Masterminds/sprig/v3"
	"github.com/ghodss/yaml"
)

const (
	defaultKubeVersion = "v1.20.2"
	// helmVersion is what .Capabilities.HelmVersion.Version reports.
	helmVersion = "v3.14.0"
	// helm stops an include that nests deeper than this.
	includeRecursionMax = 1000
	notesFile           = "NOTES.txt"
	debugHint           = "\n\nUse --debug flag to render out invalid YAML"
)

// ---------------------------------------------------------------------------
// Command line

// Options is one invocation of chart-render.
type Options struct {
	ChartDir     string
	ReleaseName  string
	Namespace    string
	ValueFiles   []string
	SetValues    []string
	SetStrings   []string
	SetFiles     []string
	ShowOnly     []string
	APIVersions  []string
	KubeVersion  string
	IncludeCRDs  bool
	Notes        bool
	IsUpgrade    bool
	DisableHooks bool
	SkipTests    bool
}

var errHelp = errors.New("help requested")

const usage = `chart-render renders a Helm chart directory like 'helm template' (no helm needed).

Usage:
  chart-render CHART_DIR [flags]
  chart-render NAME CHART_DIR [flags]

Flags:
      --release NAME            release name (default "release-name")
  -n, --namespace NS            release namespace (default "default")
  -f, --values FILE             values file, repeatable, later wins ("-" reads stdin)
      --set K=V                 set values (a.b=c, a[0]=x, a={x,y}, comma-separated)
      --set-string K=V          like --set but every value is a string
      --set-file K=PATH         set a value to the contents of a file
  -s, --show-only PATH          only show manifests of this template (glob), repeatable
      --include-crds            print the chart's crds/ files first
      --notes                   print the rendered NOTES.txt to stderr
      --kube-version VERSION    .Capabilities.KubeVersion (default "v1.20.2")
  -a, --api-versions GV         extra .Capabilities.APIVersions, repeatable
      --is-upgrade              .Release.IsUpgrade true, IsInstall false
      --no-hooks                leave out hook manifests
      --skip-tests              leave out test hooks
  -h, --help                    this help
`

// ParseArgs reads the command line (without the program name).
func ParseArgs(args []string) (*Options, error) {
	o := &Options{ReleaseName: "release-name", Namespace: "default", KubeVersion: defaultKubeVersion}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, val, hasVal := a, "", false
		if strings.HasPrefix(a, "--") {
			if k, v, ok := strings.Cut(a, "="); ok {
				name, val, hasVal = k, v, true
			}
		} else if len(a) > 2 { // -fvalues.yaml, -n=ns
			name, val, hasVal = a[:2], strings.TrimPrefix(a[2:], "="), true
		}
		needVal := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag needs an argument: %s", name)
			}
			i++
			return args[i], nil
		}
		boolFlag := func(dst *bool) error {
			if !hasVal {
				*dst = true
				return nil
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return fmt.Errorf("invalid argument %q for %s: %v", val, name, err)
			}
			*dst = b
			return nil
		}
		var err error
		var v string
		switch name {
		case "-h", "--help":
			return nil, errHelp
		case "--release", "--release-name", "--name":
			if v, err = needVal(); err == nil {
				o.ReleaseName = v
			}
		case "-n", "--namespace":
			if v, err = needVal(); err == nil {
				o.Namespace = v
			}
		case "-f", "--values":
			if v, err = needVal(); err == nil {
				// helm's -f is a string slice: commas separate files.
				o.ValueFiles = append(o.ValueFiles, strings.Split(v, ",")...)
			}
		case "--set":
			if v, err = needVal(); err == nil {
				o.SetValues = append(o.SetValues, v)
			}
		case "--set-string":
			if v, err = needVal(); err == nil {
				o.SetStrings = append(o.SetStrings, v)
			}
		case "--set-file":
			if v, err = needVal(); err == nil {
				o.SetFiles = append(o.SetFiles, v)
			}
		case "-s", "--show-only":
			if v, err = needVal(); err == nil {
				o.ShowOnly = append(o.ShowOnly, v)
			}
		case "-a", "--api-versions":
			if v, err = needVal(); err == nil {
				o.APIVersions = append(o.APIVersions, strings.Split(v, ",")...)
			}
		case "--kube-version":
			if v, err = needVal(); err == nil {
				o.KubeVersion = v
			}
		case "--include-crds":
			err = boolFlag(&o.IncludeCRDs)
		case "--notes":
			err = boolFlag(&o.Notes)
		case "--is-upgrade":
			err = boolFlag(&o.IsUpgrade)
		case "--no-hooks":
			err = boolFlag(&o.DisableHooks)
		case "--skip-tests":
			err = boolFlag(&o.SkipTests)
		default:
			return nil, fmt.Errorf("unknown flag: %s", name)
		}
		if err != nil {
			return nil, err
		}
	}
	switch len(positional) {
	case 1:
		o.ChartDir = positional[0]
	case 2:
		o.ReleaseName, o.ChartDir = positional[0], positional[1]
	case 0:
		return nil, errors.New("a chart directory is required")
	default:
		return nil, fmt.Errorf("too many arguments: %q", positional)
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := ParseArgs(args)
	if err == errHelp {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "Error: %s\n\n%s", err, usage)
		return 1
	}
	res, err := Render(o, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %s\n", err)
		return 1
	}
	if _, err := io.WriteString(stdout, res.Manifests); err != nil {
		fmt.Fprintf(stderr, "Error: %s\n", err)
		return 1
	}
	if o.Notes && strings.TrimSpace(res.Notes) != "" {
		fmt.Fprintf(stderr, "NOTES:\n%s\n", strings.TrimSpace(res.Notes))
	}
	return 0
}

// ---------------------------------------------------------------------------
// Chart loading

// Maintainer, Dependency and Metadata mirror helm's chart.Metadata, so that
// templates see the same capitalized fields (.Chart.Name, .Chart.AppVersion...).
type Maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

type Dependency struct {
	Name         string        `json:"name"`
	Version      string        `json:"version,omitempty"`
	Repository   string        `json:"repository"`
	Condition    string        `json:"condition,omitempty"`
	Tags         []string      `json:"tags,omitempty"`
	Enabled      bool          `json:"enabled,omitempty"`
	ImportValues []interface{} `json:"import-values,omitempty"`
	Alias        string        `json:"alias,omitempty"`
}

type Metadata struct {
	Name         string            `json:"name,omitempty"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Version      string            `json:"version,omitempty"`
	Description  string            `json:"description,omitempty"`
	Keywords     []string          `json:"keywords,omitempty"`
	Maintainers  []*Maintainer     `json:"maintainers,omitempty"`
	Icon         string            `json:"icon,omitempty"`
	APIVersion   string            `json:"apiVersion,omitempty"`
	Condition    string            `json:"condition,omitempty"`
	Tags         string            `json:"tags,omitempty"`
	AppVersion   string            `json:"appVersion,omitempty"`
	Deprecated   bool              `json:"deprecated,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Dependencies []*Dependency     `json:"dependencies,omitempty"`
	Type         string            `json:"type,omitempty"`
}

type chartFile struct {
	Name string // relative to the chart root, "/"-separated
	Data []byte
}

// Chart is a loaded chart directory.
type Chart struct {
	Metadata  *Metadata
	Values    map[string]interface{}
	Templates []chartFile
	Files     []chartFile // everything else helm exposes as .Files (crds/ too)
	HasSchema bool
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// LoadChart reads a chart directory as helm's loader does (honouring .helmignore).
func LoadChart(dir string) (*Chart, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("path %q not found", dir)
		}
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a chart directory (packaged charts are not supported)", dir)
	}
	rules, err := loadIgnoreRules(filepath.Join(dir, ".helmignore"))
	if err != nil {
		return nil, err
	}
	var files []chartFile
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if info.Mode()&os.ModeSymlink != 0 {
			if info, err = os.Stat(p); err != nil {
				return err
			}
			if info.IsDir() {
				return fmt.Errorf("symlinked directory %s is not supported", rel)
			}
		}
		if info.IsDir() {
			if rules.ignore(rel, true) {
				return filepath.SkipDir
			}
			return nil
		}
		if rules.ignore(rel, false) {
			return nil
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("cannot load irregular file %s as it has file mode type bits set", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, chartFile{Name: rel, Data: bytes.TrimPrefix(data, utf8BOM)})
		return nil
	})
	if err != nil {
		return nil, err
	}

	c := &Chart{Values: map[string]interface{}{}}
	hasSubcharts := false
	for _, f := range files {
		switch {
		case f.Name == "Chart.yaml":
			c.Metadata = new(Metadata)
			if err := yaml.Unmarshal(f.Data, c.Metadata); err != nil {
				return nil, fmt.Errorf("cannot load Chart.yaml: %w", err)
			}
			if c.Metadata.APIVersion == "" {
				c.Metadata.APIVersion = "v1"
			}
		case f.Name == "values.yaml":
			v, err := readValues(f.Data)
			if err != nil {
				return nil, fmt.Errorf("cannot load values.yaml: %w", err)
			}
			c.Values = v
		case f.Name == "values.schema.json":
			c.HasSchema = true
		case f.Name == "Chart.lock" || f.Name == "requirements.lock":
		case f.Name == "requirements.yaml":
			hasSubcharts = true
		case strings.HasPrefix(f.Name, "templates/"):
			c.Templates = append(c.Templates, f)
		case strings.HasPrefix(f.Name, "charts/"):
			if filepath.Ext(f.Name) == ".prov" {
				c.Files = append(c.Files, f)
				continue
			}
			hasSubcharts = true
		default:
			c.Files = append(c.Files, f)
		}
	}
	if c.Metadata == nil {
		return nil, errors.New("Chart.yaml file is missing")
	}
	if err := c.Metadata.validate(); err != nil {
		return nil, err
	}
	if c.Metadata.Type == "library" {
		return nil, errors.New("library charts are not installable")
	}
	if hasSubcharts || len(c.Metadata.Dependencies) > 0 {
		return nil, errors.New("chart-render does not support subcharts (charts/ or dependencies in Chart.yaml); use helm for this chart")
	}
	return c, nil
}

func (md *Metadata) validate() error {
	if md.APIVersion != "v1" && md.APIVersion != "v2" {
		return fmt.Errorf("validation: chart.metadata.apiVersion %q is invalid", md.APIVersion)
	}
	if md.Name == "" {
		return errors.New("validation: chart.metadata.name is required")
	}
	if md.Name == "." || md.Name == ".." || strings.ContainsAny(md.Name, `/\`) {
		return fmt.Errorf("validation: chart.metadata.name %q is invalid", md.Name)
	}
	if md.Version == "" {
		return errors.New("validation: chart.metadata.version is required")
	}
	if _, err := semver.NewVersion(md.Version); err != nil {
		return fmt.Errorf("validation: chart.metadata.version %q is invalid", md.Version)
	}
	if md.Type != "" && md.Type != "application" && md.Type != "library" {
		return errors.New("validation: chart.metadata.type must be application or library")
	}
	return nil
}

// .helmignore: helm's rules (no "**"; patterns without a slash match the
// base name; a trailing slash matches directories only; "!" negates, with
// helm's peculiar semantics), plus its default "templates/.?*".
type ignoreRule struct {
	pattern  string
	negate   bool
	mustDir  bool
	basename bool
}

type ignoreRules []ignoreRule

func loadIgnoreRules(file string) (ignoreRules, error) {
	rules := ignoreRules{{pattern: "templates/.?*"}}
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return rules, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, "**") {
			return nil, errors.New("double-star (**) syntax is not supported")
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") && len(line) > 1 {
			r.negate = true
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.mustDir = true
			line = strings.TrimSuffix(line, "/")
		}
		if strings.HasPrefix(line, "/") {
			line = strings.TrimPrefix(line, "/")
		} else if !strings.Contains(line, "/") {
			r.basename = true
		}
		if _, err := filepath.Match(line, "x"); err != nil {
			return nil, fmt.Errorf("bad .helmignore pattern %q: %v", line, err)
		}
		r.pattern = line
		rules = append(rules, r)
	}
	return rules, sc.Err()
}

func (rs ignoreRules) ignore(rel string, isDir bool) bool {
	if rel == ".helmignore" {
		return false
	}
	for _, r := range rs {
		name := rel
		if r.basename {
			name = path.Base(rel)
		}
		matched, _ := filepath.Match(r.pattern, name)
		if r.negate {
			if r.mustDir && !isDir {
				return true
			}
			if !matched {
				return true
			}
			continue
		}
		if r.mustDir && !isDir {
			continue
		}
		if matched {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Values

// Values is the type of the top-level render context and of .Values, with
// helm's chartutil.Values methods.
type Values map[string]interface{}

func (v Values) AsMap() map[string]interface{} { return v }

func (v Values) YAML() (string, error) {
	b, err := yaml.Marshal(v)
	return string(b), err
}

func (v Values) Table(name string) (Values, error) {
	cur := map[string]interface{}(v)
	for _, part := range strings.Split(name, ".") {
		next, ok := cur[part].(map[string]interface{})
		if !ok {
			if nv, ok2 := cur[part].(Values); ok2 {
				next, ok = nv, true
			}
		}
		if !ok {
			return Values{}, fmt.Errorf("no table named %q", name)
		}
		cur = next
	}
	return Values(cur), nil
}

func (v Values) PathValue(p string) (interface{}, error) {
	parts := strings.Split(p, ".")
	t, err := v.Table(strings.Join(parts[:len(parts)-1], "."))
	if len(parts) == 1 {
		t, err = v, nil
	}
	if err != nil {
		return nil, err
	}
	val, ok := t[parts[len(parts)-1]]
	if !ok {
		return nil, fmt.Errorf("no value at %q", p)
	}
	return val, nil
}

func readValues(data []byte) (map[string]interface{}, error) {
	v := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &v); err != nil {
		return map[string]interface{}{}, err
	}
	if v == nil {
		v = map[string]interface{}{}
	}
	return v, nil
}

// mergeMaps deep-merges b over a, as helm merges -f files.
func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if bv, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeMaps(bv, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// UserValues merges the -f files and the --set flags, in helm's order:
// files, then --set, then --set-string, then --set-file.
func UserValues(o *Options, stdin io.Reader) (map[string]interface{}, error) {
	base := map[string]interface{}{}
	for _, f := range o.ValueFiles {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, err
		}
		cur, err := readValues(data)
		if err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", f, err)
		}
		base = mergeMaps(base, cur)
	}
	for _, s := range o.SetValues {
		if err := ParseSet(s, base, typedVal); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, s := range o.SetStrings {
		if err := ParseSet(s, base, func(s string) (interface{}, error) { return s, nil }); err != nil {
			return nil, fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	for _, s := range o.SetFiles {
		readFile := func(p string) (interface{}, error) {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			return string(b), nil
		}
		if err := ParseSet(s, base, readFile); err != nil {
			return nil, fmt.Errorf("failed parsing --set-file data: %w", err)
		}
	}
	return base, nil
}

// typedVal gives a --set value helm's type: true/false, null, 0 and integers
// without a leading zero are typed; everything else is a string.
func typedVal(s string) (interface{}, error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	case strings.EqualFold(s, "null"):
		return nil, nil
	case s == "0":
		return int64(0), nil
	}
	if len(s) > 0 && s[0] != '0' {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	return s, nil
}

const maxSetIndex = 65536

// setParser reads helm's --set syntax: key.path=value pairs separated by
// commas, list indexes key[0]=v, list values key={a,b}, "\" escapes.
type setParser struct {
	r    []rune
	pos  int
	conv func(string) (interface{}, error)
}

// ParseSet applies one --set argument to dest.
func ParseSet(s string, dest map[string]interface{}, conv func(string) (interface{}, error)) error {
	p := &setParser{r: []rune(s), conv: conv}
	for p.pos < len(p.r) {
		if err := p.key(dest); err != nil {
			return err
		}
	}
	return nil
}

func (p *setParser) next() (rune, bool) {
	if p.pos >= len(p.r) {
		return 0, false
	}
	c := p.r[p.pos]
	p.pos++
	return c, true
}

func (p *setParser) key(m map[string]interface{}) error {
	var k []rune
	for {
		c, ok := p.next()
		if !ok {
			if len(k) == 0 {
				return nil
			}
			return fmt.Errorf("key %q has no value", string(k))
		}
		switch c {
		case '\\':
			e, ok := p.next()
			if !ok {
				return errors.New("parse error: unexpected end of input after '\\'")
			}
			k = append(k, e)
		case '=':
			v, err := p.value()
			if err != nil {
				return err
			}
			m[string(k)] = v
			return nil
		case ',':
			m[string(k)] = ""
			return fmt.Errorf("key %q has no value (cannot end with ,)", string(k))
		case '.':
			if len(k) == 0 {
				return errors.New("key map \"\" has no value")
			}
			child, ok := m[string(k)].(map[string]interface{})
			if !ok {
				child = map[string]interface{}{}
				m[string(k)] = child
			}
			return p.key(child)
		case '[':
			if len(k) == 0 {
				return errors.New("key \"\" has no value")
			}
			list, _ := m[string(k)].([]interface{})
			list, err := p.listItem(list)
			m[string(k)] = list
			return err
		default:
			k = append(k, c)
		}
	}
}

// listItem parses "N]" and what follows it ("=v", ".key=v", "[M]...").
func (p *setParser) listItem(list []interface{}) ([]interface{}, error) {
	start := p.pos
	for p.pos < len(p.r) && p.r[p.pos] != ']' {
		p.pos++
	}
	if p.pos >= len(p.r) {
		return list, errors.New("parse error: missing ']'")
	}
	idx, err := strconv.Atoi(string(p.r[start:p.pos]))
	if err != nil {
		return list, fmt.Errorf("parse error: invalid index %q", string(p.r[start:p.pos]))
	}
	p.pos++ // ]
	if idx < 0 {
		return list, fmt.Errorf("negative %d index not allowed", idx)
	}
	if idx > maxSetIndex {
		return list, fmt.Errorf("index of %d is greater than maximum supported index %d", idx, maxSetIndex)
	}
	for len(list) <= idx {
		list = append(list, nil)
	}
	c, ok := p.next()
	if !ok {
		return list, fmt.Errorf("key index %d has no value", idx)
	}
	switch c {
	case '=':
		v, err := p.value()
		if err != nil {
			return list, err
		}
		list[idx] = v
		return list, nil
	case '.':
		child, ok := list[idx].(map[string]interface{})
		if !ok {
			child = map[string]interface{}{}
		}
		err := p.key(child)
		list[idx] = child
		return list, err
	case '[':
		inner, _ := list[idx].([]interface{})
		inner, err := p.listItem(inner)
		list[idx] = inner
		return list, err
	default:
		return list, fmt.Errorf("parse error: unexpected %q after index", c)
	}
}

// value reads a value up to an unescaped comma (consumed) or the end.
func (p *setParser) value() (interface{}, error) {
	if p.pos < len(p.r) && p.r[p.pos] == '{' {
		p.pos++
		list := []interface{}{}
		for {
			item, last, err := p.runesUntil(",}")
			if err != nil {
				return nil, err
			}
			if last == 0 {
				return nil, errors.New("parse error: list value is missing '}'")
			}
			if !(last == '}' && len(list) == 0 && len(item) == 0) {
				v, err := p.conv(item)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if last == '}' {
				break
			}
		}
		if p.pos < len(p.r) {
			if p.r[p.pos] != ',' {
				return nil, fmt.Errorf("parse error: unexpected %q after list value", p.r[p.pos])
			}
			p.pos++
		}
		return list, nil
	}
	s, _, err := p.runesUntil(",")
	if err != nil {
		return nil, err
	}
	return p.conv(s)
}

// runesUntil reads up to one of stop (consumed, returned as last) or the end (last 0).
func (p *setParser) runesUntil(stop string) (string, rune, error) {
	var out []rune
	for {
		c, ok := p.next()
		if !ok {
			return string(out), 0, nil
		}
		if c == '\\' {
			e, ok := p.next()
			if !ok {
				return "", 0, errors.New("parse error: unexpected end of input after '\\'")
			}
			out = append(out, e)
			continue
		}
		if strings.ContainsRune(stop, c) {
			return string(out), c, nil
		}
		out = append(out, c)
	}
}

// Coalesce merges the chart's defaults under the user's values as helm's
// CoalesceValues does: user values win, a user null deletes the default,
// tables merge recursively. dst is modified and returned.
func Coalesce(dst, defaults map[string]interface{}, warn func(string)) map[string]interface{} {
	if dst == nil {
		dst = map[string]interface{}{}
	}
	coalesceTables(dst, deepCopy(defaults).(map[string]interface{}), "", warn)
	return dst
}

func coalesceTables(dst, src map[string]interface{}, prefix string, warn func(string)) {
	for key, val := range src {
		full := key
		if prefix != "" {
			full = prefix + "." + key
		}
		dv, ok := dst[key]
		switch {
		case ok && dv == nil:
			delete(dst, key)
		case !ok:
			dst[key] = val
		case isTable(val):
			if isTable(dv) {
				coalesceTables(dv.(map[string]interface{}), val.(map[string]interface{}), full, warn)
			} else {
				warn(fmt.Sprintf("warning: cannot overwrite table with non table for %s (%v)", full, val))
			}
		case isTable(dv) && val != nil:
			warn(fmt.Sprintf("warning: destination for %s is a table. Ignoring non-table value (%v)", full, val))
		}
	}
}

func isTable(v interface{}) bool {
	_, ok := v.(map[string]interface{})
	return ok
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []interface{}:
		l := make([]interface{}, len(t))
		for i, e := range t {
			l[i] = deepCopy(e)
		}
		return l
	default:
		return v
	}
}

// ---------------------------------------------------------------------------
// Capabilities

type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (kv KubeVersion) String() string     { return kv.Version }
func (kv KubeVersion) GitVersion() string { return kv.Version }

type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

type HelmVersion struct {
	Version      string `json:"version,omitempty"`
	GitCommit    string `json:"git_commit,omitempty"`
	GitTreeState string `json:"git_tree_state,omitempty"`
	GoVersion    string `json:"go_version,omitempty"`
}

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion HelmVersion
}

// builtinAPIVersions are the group/versions of a Kubernetes 1.20 client's
// scheme plus the apiextensions groups, which is what helm's client-only
// .Capabilities.APIVersions holds (group/versions only, no kinds).
var builtinAPIVersions = []string{
	"v1",
	"admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1beta1",
	"apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1",
	"apps/v1", "apps/v1beta1", "apps/v1beta2",
	"authentication.k8s.io/v1", "authentication.k8s.io/v1beta1",
	"authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
	"autoscaling/v1", "autoscaling/v2beta1", "autoscaling/v2beta2",
	"batch/v1", "batch/v1beta1", "batch/v2alpha1",
	"certificates.k8s.io/v1", "certificates.k8s.io/v1beta1",
	"coordination.k8s.io/v1", "coordination.k8s.io/v1beta1",
	"discovery.k8s.io/v1alpha1", "discovery.k8s.io/v1beta1",
	"events.k8s.io/v1", "events.k8s.io/v1beta1",
	"extensions/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1alpha1", "flowcontrol.apiserver.k8s.io/v1beta1",
	"internal.apiserver.k8s.io/v1alpha1",
	"networking.k8s.io/v1", "networking.k8s.io/v1beta1",
	"node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1",
	"policy/v1beta1",
	"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1alpha1", "rbac.authorization.k8s.io/v1beta1",
	"scheduling.k8s.io/v1", "scheduling.k8s.io/v1alpha1", "scheduling.k8s.io/v1beta1",
	"storage.k8s.io/v1", "storage.k8s.io/v1alpha1", "storage.k8s.io/v1beta1",
}

// ParseKubeVersion reads "1.21", "v1.20.2" and the like as helm does.
func ParseKubeVersion(s string) (KubeVersion, error) {
	if !strings.HasPrefix(s, "v") {
		s = "v" + s
	}
	v, err := semver.NewVersion(s)
	if err != nil {
		return KubeVersion{}, err
	}
	return KubeVersion{
		Version: "v" + v.String(),
		Major:   strconv.FormatUint(v.Major(), 10),
		Minor:   strconv.FormatUint(v.Minor(), 10),
	}, nil
}

func newCapabilities(o *Options) (*Capabilities, error) {
	kv, err := ParseKubeVersion(o.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("invalid kube version '%s': %s", o.KubeVersion, err)
	}
	apis := append(VersionSet{}, builtinAPIVersions...)
	apis = append(apis, o.APIVersions...)
	return &Capabilities{
		KubeVersion: kv,
		APIVersions: apis,
		HelmVersion: HelmVersion{Version: helmVersion, GitTreeState: "clean", GoVersion: runtime.Version()},
	}, nil
}

func isCompatibleRange(constraint, ver string) bool {
	v, err := semver.NewVersion(ver)
	if err != nil {
		return false
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	return c.Check(v)
}

// ---------------------------------------------------------------------------
// .Files

// Files is .Files: the chart's non-template files by path.
type Files map[string][]byte

func newFiles(fs []chartFile) Files {
	f := Files{}
	for _, x := range fs {
		f[x.Name] = x.Data
	}
	return f
}

func (f Files) GetBytes(name string) []byte {
	if v, ok := f[name]; ok {
		return v
	}
	return []byte{}
}

func (f Files) Get(name string) string { return string(f.GetBytes(name)) }

// Glob returns the files whose path matches pattern ("*" stays within a
// directory, "**" crosses them, "?" "[...]" "{a,b}" as usual).
func (f Files) Glob(pattern string) Files {
	re, err := globRegexp(pattern)
	nf := Files{}
	if err != nil {
		return nf
	}
	for name, data := range f {
		if re.MatchString(name) {
			nf[name] = data
		}
	}
	return nf
}

func (f Files) AsConfig() string {
	if len(f) == 0 {
		return ""
	}
	m := make(map[string]string, len(f))
	for k, v := range f {
		m[path.Base(k)] = string(v)
	}
	return toYAML(m)
}

func (f Files) AsSecrets() string {
	if len(f) == 0 {
		return ""
	}
	m := make(map[string]string, len(f))
	for k, v := range f {
		m[path.Base(k)] = base64.StdEncoding.EncodeToString(v)
	}
	return toYAML(m)
}

func (f Files) Lines(p string) []string {
	if f == nil || len(f[p]) == 0 {
		return []string{}
	}
	s := string(f[p])
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	inClass, inAlt := false, false
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case inClass:
			if c == ']' {
				inClass = false
			}
			if c == '\\' {
				b.WriteString(`\\`)
			} else if c == '!' && rs[i-1] == '[' {
				b.WriteRune('^')
			} else {
				b.WriteRune(c)
			}
		case c == '\\' && i+1 < len(rs):
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case c == '*':
			if i+1 < len(rs) && rs[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			inClass = true
			b.WriteRune('[')
		case c == '{' && !inAlt:
			inAlt = true
			b.WriteString("(?:")
		case c == '}' && inAlt:
			inAlt = false
			b.WriteString(")")
		case c == ',' && inAlt:
			b.WriteString("|")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// ---------------------------------------------------------------------------
// Template functions

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toTOML(v interface{}) string {
	b := bytes.NewBuffer(nil)
	if err := toml.NewEncoder(b).Encode(v); err != nil {
		return err.Error()
	}
	return b.String()
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

// Errors from required and fail are wrapped so that the location of the
// failing template can be cut out of Go's error chain, as helm does.
const (
	warnStart = "HELM_ERR_START"
	warnEnd   = "HELM_ERR_END"
)

var warnRegex = regexp.MustCompile(warnStart + `(.*)` + warnEnd)

func warnWrap(s string) string { return warnStart + s + warnEnd }

// renderer holds one template set and the per-render include counters.
type renderer struct {
	included map[string]int
}

func (r *renderer) funcMap(t *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toToml":        toTOML,
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"include":       r.includeFunc(t),
		"tpl":           r.tplFunc(t),
		"required": func(warn string, val interface{}) (interface{}, error) {
			if val == nil {
				return val, errors.New(warnWrap(warn))
			}
			if s, ok := val.(string); ok && s == "" {
				return val, errors.New(warnWrap(warn))
			}
			return val, nil
		},
		"fail": func(msg string) (string, error) {
			return "", errors.New(warnWrap(msg))
		},
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		"getHostByName": func(string) string { return "" },
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func (r *renderer) includeFunc(t *template.Template) func(string, interface{}) (string, error) {
	return func(name string, data interface{}) (string, error) {
		if r.included[name] > includeRecursionMax {
			return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
		}
		r.included[name]++
		defer func() { r.included[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
}

// tplFunc renders a string as a template in a copy of the chart's template
// set, so it can include the chart's named templates and define its own.
func (r *renderer) tplFunc(parent *template.Template) func(string, interface{}) (string, error) {
	return func(text string, vals interface{}) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", fmt.Errorf("cannot clone template: %w", err)
		}
		// Clone drops the missingkey option (golang/go#43022).
		t.Option("missingkey=zero")
		t.Funcs(template.FuncMap{"include": r.includeFunc(t), "tpl": r.tplFunc(t)})
		t, err = t.New(parent.Name()).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}

func cleanupParseError(filename string, err error) error {
	tokens := strings.Split(err.Error(), ": ")
	if len(tokens) == 1 {
		return fmt.Errorf("parse error in (%s): %s", filename, err)
	}
	return fmt.Errorf("parse error at (%s): %s", tokens[1], tokens[len(tokens)-1])
}

func cleanupExecError(filename string, err error) error {
	var ee template.ExecError
	if !errors.As(err, &ee) {
		return err
	}
	tokens := strings.SplitN(err.Error(), ": ", 3)
	if len(tokens) != 3 {
		return fmt.Errorf("execution error in (%s): %s", filename, err)
	}
	if parts := warnRegex.FindStringSubmatch(tokens[2]); len(parts) >= 2 {
		return fmt.Errorf("execution error at (%s): %s", tokens[1], parts[1])
	}
	return err
}

// renderOrder is helm's: deeper paths first, then reverse lexical order. It
// decides which of two same-named defines wins and which error is reported.
func renderOrder(names []string) []string {
	out := append([]string(nil), names...)
	sort.Slice(out, func(i, j int) bool {
		ci, cj := strings.Count(out[i], "/"), strings.Count(out[j], "/")
		if ci != cj {
			return ci > cj
		}
		return out[i] > out[j]
	})
	return out
}

// RenderTemplates executes every template of the chart; the result maps
// "<chart>/templates/<file>" to its output (partials left out).
func RenderTemplates(ch *Chart, top Values) (rendered map[string]string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("rendering template failed: %v", p)
		}
	}()
	chartName := ch.Metadata.Name
	sources := map[string]string{}
	var names []string
	for _, f := range ch.Templates {
		n := chartName + "/" + f.Name
		sources[n] = string(f.Data)
		names = append(names, n)
	}
	order := renderOrder(names)

	r := &renderer{included: map[string]int{}}
	t := template.New("gotpl")
	t.Option("missingkey=zero")
	t.Funcs(r.funcMap(t))
	for _, n := range order {
		if _, err := t.New(n).Parse(sources[n]); err != nil {
			return nil, cleanupParseError(n, err)
		}
	}
	rendered = make(map[string]string, len(order))
	for _, n := range order {
		if strings.HasPrefix(path.Base(n), "_") {
			continue
		}
		vals := Values{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": n, "BasePath": chartName + "/templates"}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, n, vals); err != nil {
			return nil, cleanupExecError(n, err)
		}
		rendered[n] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return rendered, nil
}

// ---------------------------------------------------------------------------
// Sorting the output as helm does

// installOrder is helm 3's releaseutil.InstallOrder.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
	"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
	"ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
	"CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
	"APIService",
}

var hookEvents = map[string]bool{
	"pre-install": true, "post-install": true, "pre-delete": true, "post-delete": true,
	"pre-upgrade": true, "post-upgrade": true, "pre-rollback": true, "post-rollback": true,
	"test": true, "test-success": true,
}

type simpleHead struct {
	Version  string `json:"apiVersion"`
	Kind     string `json:"kind,omitempty"`
	Metadata *struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata,omitempty"`
}

// Manifest is one rendered document.
type Manifest struct {
	Path    string // "<chart>/templates/<file>"
	Content string
	Kind    string
	Test    bool // a test hook
}

var docSep = regexp.MustCompile("(?:^|\\s*\n)---\\s*")

// SplitManifests cuts a YAML stream into trimmed, non-empty documents.
func SplitManifests(s string) []string {
	var docs []string
	for _, d := range docSep.Split(strings.TrimSpace(s), -1) {
		if d == "" {
			continue
		}
		docs = append(docs, strings.TrimSpace(d))
	}
	return docs
}

// SortManifests splits the rendered files into documents, separates hooks
// and orders both by kind (stable), as helm's releaseutil.SortManifests.
func SortManifests(files map[string]string) (manifests, hooks []Manifest, err error) {
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		content := files[p]
		if strings.HasPrefix(path.Base(p), "_") || strings.TrimSpace(content) == "" {
			continue
		}
		for _, doc := range SplitManifests(content) {
			var head simpleHead
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return nil, nil, fmt.Errorf("YAML parse error on %s: %w", p, err)
			}
			m := Manifest{Path: p, Content: doc, Kind: head.Kind}
			var hookAnno string
			isHook := false
			if head.Metadata != nil {
				hookAnno, isHook = head.Metadata.Annotations["helm.sh/hook"]
			}
			if !isHook {
				manifests = append(manifests, m)
				continue
			}
			known := true
			for _, ev := range strings.Split(hookAnno, ",") {
				ev = strings.ToLower(strings.TrimSpace(ev))
				if !hookEvents[ev] {
					known = false
					break
				}
				if ev == "test" || ev == "test-success" {
					m.Test = true
				}
			}
			if !known {
				continue // helm drops documents with an unknown hook
			}
			hooks = append(hooks, m)
		}
	}
	sortByKind(manifests)
	sortByKind(hooks)
	return manifests, hooks, nil
}

func sortByKind(ms []Manifest) {
	order := make(map[string]int, len(installOrder))
	for i, k := range installOrder {
		order[k] = i
	}
	sort.SliceStable(ms, func(i, j int) bool {
		a, aok := order[ms[i].Kind]
		b, bok := order[ms[j].Kind]
		switch {
		case !aok && !bok:
			if ms[i].Kind != ms[j].Kind {
				return ms[i].Kind < ms[j].Kind
			}
			return false
		case !aok:
			return false
		case !bok:
			return true
		}
		return a < b
	})
}

// ---------------------------------------------------------------------------
// The whole render

// Result is the rendered output.
type Result struct {
	Manifests string // the stream `helm template` prints
	Notes     string // the rendered templates/NOTES.txt
}

var releaseNameRegex = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// Render renders the chart of o; warnings go to warn.
func Render(o *Options, stdin io.Reader, warn io.Writer) (*Result, error) {
	if o.ReleaseName == "" || len(o.ReleaseName) > 53 || !releaseNameRegex.MatchString(o.ReleaseName) {
		return nil, fmt.Errorf("release name %q: invalid release name, must match regex %s and the length must not be longer than 53", o.ReleaseName, releaseNameRegex.String())
	}
	ch, err := LoadChart(o.ChartDir)
	if err != nil {
		return nil, err
	}
	if ch.HasSchema {
		fmt.Fprintf(warn, "chart-render: warning: %s/values.schema.json is not validated\n", ch.Metadata.Name)
	}
	user, err := UserValues(o, stdin)
	if err != nil {
		return nil, err
	}
	vals := Coalesce(user, ch.Values, func(s string) { fmt.Fprintln(warn, s) })
	caps, err := newCapabilities(o)
	if err != nil {
		return nil, err
	}
	if ch.Metadata.KubeVersion != "" && !isCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s%s",
			ch.Metadata.KubeVersion, caps.KubeVersion.String(), debugHint)
	}
	top := Values{
		"Values": Values(vals),
		"Release": map[string]interface{}{
			"Name":      o.ReleaseName,
			"Namespace": o.Namespace,
			"IsUpgrade": o.IsUpgrade,
			"IsInstall": !o.IsUpgrade,
			"Revision":  1,
			"Service":   "Helm",
		},
		"Chart":        ch.Metadata,
		"Capabilities": caps,
		"Files":        newFiles(ch.Files),
	}
	files, err := RenderTemplates(ch, top)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, debugHint)
	}
	res := &Result{}
	for name, content := range files {
		if strings.HasSuffix(name, notesFile) {
			if name == ch.Metadata.Name+"/templates/"+notesFile {
				res.Notes = content
			}
			delete(files, name)
		}
	}
	manifests, hooks, err := SortManifests(files)
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, debugHint)
	}

	var b strings.Builder
	if o.IncludeCRDs {
		for _, f := range ch.Files {
			if !strings.HasPrefix(f.Name, "crds/") {
				continue
			}
			switch path.Ext(f.Name) {
			case ".yaml", ".yml", ".json":
				fmt.Fprintf(&b, "---\n# Source: %s/%s\n%s\n", ch.Metadata.Name, f.Name, f.Data)
			}
		}
	}
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Path, m.Content)
	}
	var out strings.Builder
	out.WriteString(strings.TrimSpace(b.String()))
	out.WriteString("\n")
	if !o.DisableHooks {
		for _, h := range hooks {
			if o.SkipTests && h.Test {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", h.Path, h.Content)
		}
	}
	res.Manifests = out.String()
	if len(o.ShowOnly) > 0 {
		if res.Manifests, err = showOnly(res.Manifests, o.ShowOnly); err != nil {
			return nil, err
		}
	}
	return res, nil
}

var sourceRegex = regexp.MustCompile("# Source: [^/]+/(.+)")

// showOnly keeps the documents whose "# Source:" (without the chart name)
// matches one of the patterns, in pattern order, as helm's --show-only.
func showOnly(stream string, patterns []string) (string, error) {
	docs := SplitManifests(stream)
	var b strings.Builder
	for _, pat := range patterns {
		pat = filepath.ToSlash(pat)
		found := false
		for _, d := range docs {
			sm := sourceRegex.FindStringSubmatch(d)
			if len(sm) == 0 {
				continue
			}
			if ok, _ := filepath.Match(pat, sm[1]); !ok {
				continue
			}
			fmt.Fprintf(&b, "---\n%s\n", d)
			found = true
		}
		if !found {
			return "", fmt.Errorf("could not find template %s in chart", pat)
		}
	}
	return b.String(), nil
}
