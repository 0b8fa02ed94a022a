package scaleout

import (
	"fmt"
	"net/http"
	"os"
	osuser "os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"
)

// nginxServer is a private nginx in front of the nodes.
type nginxServer struct {
	dir  string
	port int
	proc *proc
}

// nginxMain wraps the site configuration of the operations guide, deploy/nginx.conf, into
// a whole nginx configuration whose files all live in the test's directory: the tests run
// the example operators are given.
var nginxMain = template.Must(template.New("nginx.conf").Parse(`
{{if .User}}user {{.User}};{{end}}
worker_processes 1;
error_log {{.Dir}}/error.log info;
pid {{.Dir}}/nginx.pid;
events { worker_connections 2048; }
http {
    access_log {{.Dir}}/access.log;
    client_body_temp_path {{.Dir}}/tmp/body;
    proxy_temp_path {{.Dir}}/tmp/proxy;
    fastcgi_temp_path {{.Dir}}/tmp/fastcgi;
    uwsgi_temp_path {{.Dir}}/tmp/uwsgi;
    scgi_temp_path {{.Dir}}/tmp/scgi;
    include {{.Dir}}/plop.conf;
}
`))

var (
	exampleUpstreams = regexp.MustCompile(`(?m)^\s*server plop\d+:8080 [^;]*;\n`)
	exampleListen    = regexp.MustCompile(`(?m)^(\s*)listen 80;`)
	exampleLogDir    = "/var/log/nginx/"
)

// siteConfig returns deploy/nginx.conf with the test's nodes as upstream servers, listening
// on the test's port, logging into dir.
func siteConfig(tb testing.TB, dir string, port int, nodes []string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "nginx.conf"))
	if err != nil {
		tb.Fatalf("the nginx example of the operations guide: %v", err)
	}
	conf := string(b)
	if len(exampleUpstreams.FindAllString(conf, -1)) == 0 || !exampleListen.MatchString(conf) {
		tb.Fatal("deploy/nginx.conf: no `server plopN:8080 ...;` upstream lines or no `listen 80;` to replace")
	}
	var servers strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&servers, "    server %s max_fails=1 fail_timeout=5s;\n", n)
	}
	first := true
	conf = exampleUpstreams.ReplaceAllStringFunc(conf, func(string) string {
		if first {
			first = false
			return servers.String()
		}
		return ""
	})
	conf = strings.ReplaceAll(conf, exampleLogDir, dir+"/")
	return exampleListen.ReplaceAllString(conf, fmt.Sprintf("${1}listen 127.0.0.1:%d;", port))
}

// startNginx runs nginx on a free port in front of the node addresses (host:port).
func startNginx(tb testing.TB, dir string, nodes []string) *nginxServer {
	tb.Helper()
	bin := requireTool(tb, "the load balancer in front of the nodes", "nginx")
	n := &nginxServer{dir: filepath.Join(dir, "nginx"), port: freePort(tb)}
	if err := os.MkdirAll(filepath.Join(n.dir, "tmp"), 0o755); err != nil {
		tb.Fatal(err)
	}
	onFreePort(tb, "nginx", &n.port, func(tb testing.TB) error { return n.tryStart(tb, bin, nodes) })
	tb.Cleanup(func() {
		if tb.Failed() {
			b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			tb.Logf("--- nginx error.log (last lines) ---\n%s", strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	})
	return n
}

// tryStart writes the configuration for n.port and starts nginx with it.
func (n *nginxServer) tryStart(tb testing.TB, bin string, nodes []string) error {
	tb.Helper()
	site := siteConfig(tb, n.dir, n.port, nodes)
	if err := os.WriteFile(filepath.Join(n.dir, "plop.conf"), []byte(site), 0o600); err != nil {
		tb.Fatal(err)
	}
	data := struct{ Dir, User string }{Dir: n.dir}
	if os.Geteuid() == 0 {
		// Workers would run as nobody, who cannot enter the test's private directories.
		if u, err := osuser.Current(); err == nil {
			data.User = u.Username
		}
	}
	var conf strings.Builder
	if err := nginxMain.Execute(&conf, data); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.dir, "nginx.conf"), []byte(conf.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	n.proc = startProc(tb, "nginx", filepath.Join(n.dir, "stderr.log"), childEnv(), bin,
		"-p", n.dir, "-c", filepath.Join(n.dir, "nginx.conf"), "-e", filepath.Join(n.dir, "error.log"),
		"-g", "daemon off;")
	return poll(10*time.Second, n.proc, func() error {
		resp, err := http.Get(n.URL() + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

// URL is the base URL of the cluster, as clients see it.
func (n *nginxServer) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.port) }

// WSURL is the STOMP endpoint of the cluster.
func (n *nginxServer) WSURL() string { return fmt.Sprintf("ws://127.0.0.1:%d/ws", n.port) }
