package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/plop-chat/plop"
)

// S3 stores blobs as objects in one bucket of an S3-compatible object store (AWS S3, MinIO,
// Ceph, Garage, ...), optionally under a key prefix. Every node of a cluster reaches the same
// objects, which is what Disk cannot give. It is safe for concurrent use: S3 replaces an
// object atomically, so a reader sees a whole old or a whole new object.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
}

var _ plop.BlobStore = (*S3)(nil)

// s3Retries bounds the attempts of one request, so that an unreachable store fails a request
// in about a second instead of the client library's default of ten tries.
const s3Retries = 3

// NewS3 connects to the bucket that rawURL names and checks that it exists. The URL is
//
//	s3://ACCESS_KEY:SECRET@host:port/bucket[/prefix]?region=us-east-1&tls=false&path_style=true&create=1
//
// Access key and secret are URL-encoded; without them the AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY environment variables are used. tls defaults to true; path_style=true
// addresses the bucket in the path (MinIO and most self-hosted stores), false in the host
// name, and by default the client decides from the host. create=1 creates a missing bucket;
// otherwise a missing bucket is an error. An unreachable store wraps plop.ErrUnavailable.
func NewS3(ctx context.Context, rawURL string) (*S3, error) {
	cfg, err := parseS3URL(rawURL)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(cfg.host, &minio.Options{
		Creds:        cfg.creds,
		Secure:       cfg.tls,
		Region:       cfg.region,
		BucketLookup: cfg.lookup,
		MaxRetries:   s3Retries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", cfg.host, err)
	}
	s := &S3{client: client, bucket: cfg.bucket, prefix: cfg.prefix}
	ok, err := client.BucketExists(ctx, cfg.bucket)
	if err != nil {
		return nil, s.mapErr("check bucket", cfg.bucket, err)
	}
	if !ok && !cfg.create {
		return nil, fmt.Errorf("s3 bucket %s does not exist on %s (add create=1 to the URL to create it)", cfg.bucket, cfg.host)
	}
	if !ok {
		if err := client.MakeBucket(ctx, cfg.bucket, minio.MakeBucketOptions{Region: cfg.region}); err != nil {
			return nil, s.mapErr("create bucket", cfg.bucket, err)
		}
	}
	return s, nil
}

// s3Config is a parsed store URL.
type s3Config struct {
	host, bucket, prefix, region string
	creds                        *credentials.Credentials
	tls, create                  bool
	lookup                       minio.BucketLookupType
}

func parseS3URL(rawURL string) (s3Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // url.Error quotes the whole URL, secret included
		}
		return s3Config{}, fmt.Errorf("s3 url: %w", err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return s3Config{}, errors.New("s3 url: want s3://KEY:SECRET@host[:port]/bucket[/prefix]")
	}
	cfg := s3Config{host: u.Host, tls: true, lookup: minio.BucketLookupAuto}
	bucket, prefix, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if bucket == "" {
		return s3Config{}, errors.New("s3 url: no bucket in the path")
	}
	cfg.bucket = bucket
	if prefix != "" {
		if err := CheckKey(prefix); err != nil {
			return s3Config{}, fmt.Errorf("s3 url: key prefix %q: %w", prefix, err)
		}
		cfg.prefix = prefix + "/"
	}
	if u.User != nil {
		secret, _ := u.User.Password()
		cfg.creds = credentials.NewStaticV4(u.User.Username(), secret, "")
	} else {
		cfg.creds = credentials.NewEnvAWS()
	}
	q := u.Query()
	cfg.region = q.Get("region")
	for name, dst := range map[string]*bool{"tls": &cfg.tls, "create": &cfg.create} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return s3Config{}, fmt.Errorf("s3 url: %s=%q is not a boolean", name, v)
			}
			*dst = b
		}
	}
	if v := q.Get("path_style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s3Config{}, fmt.Errorf("s3 url: path_style=%q is not a boolean", v)
		}
		cfg.lookup = minio.BucketLookupDNS
		if b {
			cfg.lookup = minio.BucketLookupPath
		}
	}
	return cfg, nil
}

// Put streams exactly size bytes from r to the object under key with its content type (the
// type of the key's extension when empty), replacing any object. Input shorter or longer than
// size is an invalid_argument error and leaves the old object (if any) in place.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if size < 0 {
		return plop.Errorf(plop.EInvalid, "negative blob size %d", size)
	}
	if contentType == "" {
		contentType = ContentTypeOf(key)
	}
	er := &exactReader{r: r, left: size, key: key}
	opts := minio.PutObjectOptions{ContentType: contentType}
	if size == 0 {
		if err := er.checkEnd(); err != io.EOF {
			return err
		}
		// A streaming-signed empty body goes out chunked with no length, which stores refuse.
		opts.DisableContentSha256 = true
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, er, size, opts)
	if er.err != nil {
		return er.err
	}
	if err != nil {
		return s.mapErr("put blob", key, err)
	}
	return nil
}

// Open returns the object under key for reading: its ReadSeekCloser is the object store's
// stream, which turns a Seek into a ranged GET, so range requests fetch only what they serve.
// Size, content type and modification time come from the object's metadata. Returns
// not_found. The caller closes the Blob; reads stop when ctx is done.
func (s *S3) Open(ctx context.Context, key string) (plop.Blob, error) {
	if err := CheckKey(key); err != nil {
		return plop.Blob{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return plop.Blob{}, s.mapErr("open blob", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return plop.Blob{}, s.mapErr("open blob", key, err)
	}
	ct := info.ContentType
	if ct == "" || ct == "binary/octet-stream" {
		ct = ContentTypeOf(key)
	}
	return plop.Blob{ReadSeekCloser: obj, Size: info.Size, ContentType: ct, ModTime: info.LastModified}, nil
}

// Delete removes the object under key; deleting a missing object is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		if e, ok := errors.AsType[minio.ErrorResponse](err); ok && e.Code == minio.NoSuchKey {
			return nil
		}
		return s.mapErr("delete blob", key, err)
	}
	return nil
}

// mapErr turns an object store error into a domain one: a missing object is not_found, an
// unreachable or failing store (no answer, 5xx, throttling) wraps plop.ErrUnavailable, and
// anything else (denied access, a missing bucket) is an internal error with context.
func (s *S3) mapErr(op, key string, err error) error {
	if pe, ok := errors.AsType[*plop.Error](err); ok {
		return pe
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	e, ok := errors.AsType[minio.ErrorResponse](err)
	switch {
	case ok && (e.Code == minio.NoSuchKey || e.StatusCode == http.StatusNotFound && e.Code != minio.NoSuchBucket):
		return plop.Errorf(plop.ENotFound, "blob %s not found", key)
	case !ok || e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.Code == "SlowDown":
		return fmt.Errorf("%s %s in s3 bucket %s: %w: %w", op, key, s.bucket, plop.ErrUnavailable, err)
	}
	return fmt.Errorf("%s %s in s3 bucket %s: %w", op, key, s.bucket, err)
}

// exactReader yields exactly left bytes of r and fails the upload (before its last byte is
// handed on) when r is shorter or longer, so that a wrong size never replaces an object.
type exactReader struct {
	r    io.Reader
	left int64
	key  string
	err  error // the size mismatch found, if any
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		return 0, e.checkEnd()
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case e.left == 0:
		if err := e.checkEnd(); err != io.EOF {
			return 0, err
		}
		return n, nil
	case err == io.EOF:
		e.err = plop.Errorf(plop.EInvalid, "blob %s: input ended %d bytes short", e.key, e.left)
		return 0, e.err
	}
	return n, err
}

// checkEnd reads one byte past the expected end: there must be none.
func (e *exactReader) checkEnd() error {
	var one [1]byte
	n, err := io.ReadFull(e.r, one[:])
	if n > 0 {
		e.err = plop.Errorf(plop.EInvalid, "blob %s: input longer than expected", e.key)
		return e.err
	}
	if err != nil && err != io.EOF {
		return err
	}
	return io.EOF
}
