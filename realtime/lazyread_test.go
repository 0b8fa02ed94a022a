package realtime

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// The reader returns the bytes sent ahead of the handshake, then every byte of the stream
// in order, whatever the sizes of the reads, and EOF when the peer closes.
func TestLazyReaderStream(t *testing.T) {
	server, client := tcpPair(t)
	lr := newLazyReader(server, []byte("ahead:"))
	if lr == nil {
		t.Fatal("no lazy reader over a TCP connection")
	}
	br := bufio.NewReaderSize(lr, minReadBufferSize)

	var want bytes.Buffer
	want.WriteString("ahead:")
	payload := make([]byte, 3*lazyReadSize+123)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	want.Write(payload)
	go func() {
		// In pieces of several sizes, so that reads see partial and whole chunks.
		for rest, step := payload, 1; len(rest) > 0; step = step*3 + 1 {
			n := min(step, len(rest))
			client.Write(rest[:n])
			rest = rest[n:]
			time.Sleep(time.Millisecond)
		}
		client.Close()
	}()
	var got bytes.Buffer
	sizes := []int{2, 14, 100, lazyReadSize, 1, 5000}
	for i := 0; ; i++ {
		p := make([]byte, sizes[i%len(sizes)])
		n, err := io.ReadFull(br, p)
		got.Write(p[:n])
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read: %v", err)
			}
			break
		}
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("read %d bytes, want %d (or they differ)", got.Len(), want.Len())
	}
	if lr.buf != nil {
		t.Error("the reader still holds a buffer after the stream ended")
	}
}

// Between messages, a reader waiting for bytes holds no buffer; a read deadline ends the
// wait with a timeout, and closing the connection ends it with an error.
func TestLazyReaderIdleAndDeadline(t *testing.T) {
	server, client := tcpPair(t)
	lr := newLazyReader(server, nil)
	br := bufio.NewReaderSize(lr, minReadBufferSize)

	client.Write([]byte("hello"))
	p := make([]byte, 5)
	if _, err := io.ReadFull(br, p); err != nil || string(p) != "hello" {
		t.Fatalf("read %q, %v", p, err)
	}
	if lr.buf != nil {
		t.Fatal("the reader holds a buffer with nothing left to read")
	}

	server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := br.ReadByte()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	if lr.buf != nil {
		t.Fatal("the reader holds a buffer after waiting for nothing")
	}

	server.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := lr.Read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	server.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read on a closed connection succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closing the connection did not end the read")
	}
}
