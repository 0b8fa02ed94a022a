package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"go/build"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// mailpit is a real SMTP server (Mailpit) started for one test, with its HTTP API for reading
// back what it received.
type mailpit struct {
	SMTPPort int
	api      string
}

// mailpitBinary finds the mailpit binary on PATH or in GOPATH/bin; without it the test is
// skipped, unless PLOP_TEST_REQUIRE_SERVICES=1, where it fails.
func mailpitBinary(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "mailpit")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	msg := "mailpit not found on PATH or in GOPATH/bin; install it with: go install github.com/axllent/mailpit@v1.33.1"
	if os.Getenv("PLOP_TEST_REQUIRE_SERVICES") == "1" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startMailpit runs mailpit with extra flags on free loopback ports until the test ends.
func startMailpit(tb testing.TB, extra ...string) *mailpit {
	tb.Helper()
	bin := mailpitBinary(tb)
	var lastErr error
	for range 3 { // a port taken between freePort and mailpit's bind: try other ports
		smtpPort, httpPort := freePort(tb), freePort(tb)
		args := append([]string{
			"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort),
			"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
			"--database", filepath.Join(tb.TempDir(), "mp.db"),
			"--disable-version-check", "--smtp-disable-rdns", "--quiet",
		}, extra...)
		cmd := exec.Command(bin, args...)
		out, _ := os.Create(filepath.Join(tb.TempDir(), "mailpit.log"))
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			tb.Fatalf("start mailpit: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		mp := &mailpit{SMTPPort: smtpPort, api: fmt.Sprintf("http://127.0.0.1:%d/api/v1", httpPort)}
		if lastErr = mp.waitReady(exited); lastErr == nil {
			tb.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
				out.Close()
			})
			return mp
		}
		cmd.Process.Kill()
		<-exited
		out.Close()
		log, _ := os.ReadFile(out.Name())
		lastErr = fmt.Errorf("%w; mailpit said: %s", lastErr, log)
	}
	tb.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

func (mp *mailpit) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("mailpit exited: %v", err)
		default:
		}
		if resp, err := http.Get(mp.api + "/messages"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				// The HTTP side is up; the SMTP listener starts alongside it.
				if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(mp.SMTPPort)); err == nil {
					c.Close()
					return nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not ready after 15s")
}

// received is one message as Mailpit's API shows it.
type received struct {
	ID      string
	Subject string
	From    struct{ Address string }
	To      []struct{ Address string }
	Text    string
}

// messages returns what Mailpit holds, newest first, polling until there are at least n.
func (mp *mailpit) messages(tb testing.TB, n int) []received {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct{ Messages []received }
		mp.get(tb, "/messages", &list)
		if len(list.Messages) >= n {
			for i := range list.Messages {
				mp.get(tb, "/message/"+list.Messages[i].ID, &list.Messages[i])
			}
			return list.Messages
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailpit holds %d messages after 10s, want %d", len(list.Messages), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (mp *mailpit) get(tb testing.TB, path string, v any) {
	tb.Helper()
	resp, err := http.Get(mp.api + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
}

// selfSignedCert writes a certificate and key for 127.0.0.1 and returns their paths.
func selfSignedCert(tb testing.TB) (certFile, keyFile string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}
