package httpapi

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPIMatchesRoutes checks that the OpenAPI document is valid, that it documents every
// route of the route table and no other, and that it marks public routes as needing no token.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}

	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = op
		}
	}
	routed := map[string]bool{}
	for _, rt := range (&API{}).routes() {
		routed[rt.pattern] = true
		op, ok := documented[rt.pattern]
		if !ok {
			t.Errorf("route %q is not documented in openapi.yaml", rt.pattern)
			continue
		}
		noToken := op.Security != nil && len(*op.Security) == 0
		if rt.access == public && !noToken {
			t.Errorf("route %q is public but documented as needing a token (add security: [])", rt.pattern)
		}
		if rt.access != public && noToken {
			t.Errorf("route %q needs a token but is documented as public", rt.pattern)
		}
		if rt.access != public {
			if _, ok := op.Responses.Map()["401"]; !ok {
				t.Errorf("route %q needs a token but documents no 401 answer", rt.pattern)
			}
		}
	}
	var extra []string
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		t.Errorf("openapi.yaml documents %q, which no route serves", k)
	}
}

// TestOpenAPICopyInDocs checks that docs/openapi.yaml is the document the server embeds.
func TestOpenAPICopyInDocs(t *testing.T) {
	docs, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatalf("read docs copy: %v", err)
	}
	if !bytes.Equal(docs, openAPI) {
		t.Fatal("docs/openapi.yaml differs from httpapi/openapi.yaml; run go generate ./httpapi")
	}
}

// TestRoutePatterns checks the route table's own hygiene: one line per pattern, every
// pattern with a method, and every path under /api/v1 but the operations endpoints.
func TestRoutePatterns(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range (&API{}).routes() {
		if seen[rt.pattern] {
			t.Errorf("pattern %q appears twice", rt.pattern)
		}
		seen[rt.pattern] = true
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok || method == "" || strings.ToUpper(method) != method {
			t.Errorf("pattern %q has no method", rt.pattern)
		}
		if !strings.HasPrefix(path, "/api/v1/") && !slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, path) {
			t.Errorf("pattern %q is outside /api/v1", rt.pattern)
		}
		if rt.handle == nil {
			t.Errorf("pattern %q has no handler", rt.pattern)
		}
	}
}
