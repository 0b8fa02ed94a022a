package scaleout

import (
	"fmt"
	"net/http"
	"os"
	osuser "os/user"
	"path/filepath"
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

// nginxConfig is the load balancer of the tests: round-robin over the nodes, WebSocket
// upgrade on /ws, the client address in X-Forwarded-For, quick failover to the next node
// when one refuses connections, and no buffering between a node and its client.
var nginxConfig = template.Must(template.New("nginx.conf").Parse(`
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

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }

    upstream plop {
{{- range .Nodes}}
        server {{.}} max_fails=1 fail_timeout=5s;
{{- end}}
        keepalive 32;
    }

    server {
        listen 127.0.0.1:{{.Port}};
        client_max_body_size 12m;

        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_connect_timeout 1s;
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 3;
        proxy_buffering off;
        proxy_request_buffering off;

        location = /ws {
            proxy_pass http://plop;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            # Longer than the STOMP heart-beats, so that only a dead peer ends a socket.
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
        }

        location / {
            proxy_pass http://plop;
            proxy_set_header Connection "";
            proxy_read_timeout 30s;
        }
    }
}
`))

// startNginx runs nginx on a free port in front of the node addresses (host:port).
func startNginx(tb testing.TB, dir string, nodes []string) *nginxServer {
	tb.Helper()
	bin := requireTool(tb, "the load balancer in front of the nodes", "nginx")
	n := &nginxServer{dir: filepath.Join(dir, "nginx"), port: freePort(tb)}
	if err := os.MkdirAll(filepath.Join(n.dir, "tmp"), 0o755); err != nil {
		tb.Fatal(err)
	}
	data := struct {
		Dir, User string
		Port      int
		Nodes     []string
	}{Dir: n.dir, Port: n.port, Nodes: nodes}
	if os.Geteuid() == 0 {
		// Workers would run as nobody, who cannot enter the test's private directories.
		if u, err := osuser.Current(); err == nil {
			data.User = u.Username
		}
	}
	var conf strings.Builder
	if err := nginxConfig.Execute(&conf, data); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.dir, "nginx.conf"), []byte(conf.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	n.proc = startProc(tb, "nginx", filepath.Join(n.dir, "stderr.log"), childEnv(), bin,
		"-p", n.dir, "-c", filepath.Join(n.dir, "nginx.conf"), "-e", filepath.Join(n.dir, "error.log"),
		"-g", "daemon off;")
	waitFor(tb, 10*time.Second, "nginx proxying /healthz", n.proc, func() error {
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
	tb.Cleanup(func() {
		if tb.Failed() {
			b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			tb.Logf("--- nginx error.log (last lines) ---\n%s", strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	})
	return n
}

// URL is the base URL of the cluster, as clients see it.
func (n *nginxServer) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.port) }

// WSURL is the STOMP endpoint of the cluster.
func (n *nginxServer) WSURL() string { return fmt.Sprintf("ws://127.0.0.1:%d/ws", n.port) }
