// acme-xcrypto gets a certificate from an ACME server the way cert-manager's
// ACME issuer does: with golang.org/x/crypto/acme (the library cert-manager
// vendors), an ECDSA P-256 account key, http-01 challenges and a fresh P-256
// CSR. It is built only from Debian packages (Go, golang-golang-x-crypto-dev):
// hack/acme-xcrypto.sh installs them, builds this file into
// /var/cache/keystep/acme-xcrypto/acme-xcrypto and runs it.
//
// Usage:
//
//	acme-xcrypto --directory URL --ca-bundle root.pem --http01-addr 127.0.0.1:PORT
//	    --domains a,b --out chain.pem [--key-out key.pem]
//	    [--replicas 127.0.0.1:PORTA,127.0.0.1:PORTB] [--revoke] [--timeout 2m]
//
// The HTTP client trusts only --ca-bundle (cert-manager's caBundle). With
// --replicas every new connection goes to the next address in turn and
// keep-alives are off, so consecutive requests land on different replicas,
// as behind a Service in front of several pods; URLs keep the directory's
// host, for the TLS name check and the Host header.
//
// Flow: Register (AcceptTOS), AuthorizeOrder, for each authorization
// GetAuthorization, its http-01 challenge served on --http01-addr, Accept,
// WaitAuthorization; WaitOrder; CreateOrderCert; the chain (leaf first) to
// --out and the certificate key to --key-out. --revoke then revokes the
// certificate with the account key. Each step is printed to stderr; any
// failure exits 1 with the error.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
)

type options struct {
	directory  string
	caBundle   string
	http01Addr string
	domains    []string
	out        string
	keyOut     string
	replicas   []string
	revoke     bool
	timeout    time.Duration
}

func step(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "acme-xcrypto: "+format+"\n", args...)
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func parseFlags() (options, error) {
	var o options
	var domains, replicas string
	fs := flag.NewFlagSet("acme-xcrypto", flag.ContinueOnError)
	fs.StringVar(&o.directory, "directory", "", "ACME directory URL")
	fs.StringVar(&o.caBundle, "ca-bundle", "", "PEM roots the HTTP client trusts (only these)")
	fs.StringVar(&o.http01Addr, "http01-addr", "", "host:port to serve http-01 challenge responses on")
	fs.StringVar(&domains, "domains", "", "comma-separated DNS names")
	fs.StringVar(&o.out, "out", "", "file for the certificate chain (PEM, leaf first)")
	fs.StringVar(&o.keyOut, "key-out", "", "file for the certificate's private key (PEM)")
	fs.StringVar(&replicas, "replicas", "", "comma-separated host:port; connections go to each in turn")
	fs.BoolVar(&o.revoke, "revoke", false, "revoke the certificate with the account key after issuing it")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on the whole flow")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return o, err
	}
	o.domains = splitList(domains)
	o.replicas = splitList(replicas)
	switch {
	case fs.NArg() != 0:
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	case o.directory == "" || o.caBundle == "" || o.http01Addr == "" || o.out == "":
		return o, errors.New("--directory, --ca-bundle, --http01-addr and --out are required")
	case len(o.domains) == 0:
		return o, errors.New("--domains needs at least one name")
	}
	return o, nil
}

// httpClient trusts only the bundle's roots; with replicas, each new
// connection dials the next replica and no connection is reused.
func httpClient(o options) (*http.Client, error) {
	bundle, err := os.ReadFile(o.caBundle)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(bundle) {
		return nil, fmt.Errorf("%s holds no PEM certificate", o.caBundle)
	}
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if len(o.replicas) > 0 {
		var next uint64
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		transport.DisableKeepAlives = true
		transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			target := o.replicas[(atomic.AddUint64(&next, 1)-1)%uint64(len(o.replicas))]
			step("connecting to replica %s", target)
			return dialer.DialContext(ctx, network, target)
		}
	}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}, nil
}

// responder serves http-01 key authorizations at their well-known paths.
type responder struct {
	mu      sync.Mutex
	answers map[string]string
}

func (r *responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	body, ok := r.answers[req.URL.Path]
	r.mu.Unlock()
	if !ok {
		http.NotFound(w, req)
		return
	}
	step("http-01 request %s from %s", req.URL.Path, req.RemoteAddr)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(body))
}

func (r *responder) set(path, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[path] = body
}

func writePEM(path, typ string, blocks [][]byte, mode os.FileMode) error {
	var out []byte
	for _, b := range blocks {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})...)
	}
	return os.WriteFile(path, out, mode)
}

func authorize(ctx context.Context, client *acme.Client, web *responder, url string) error {
	step("GetAuthorization %s", url)
	authz, err := client.GetAuthorization(ctx, url)
	if err != nil {
		return fmt.Errorf("get authorization: %w", err)
	}
	if authz.Status == acme.StatusValid {
		step("authorization for %s already valid", authz.Identifier.Value)
		return nil
	}
	var chal *acme.Challenge
	for _, c := range authz.Challenges {
		if c.Type == "http-01" {
			chal = c
		}
	}
	if chal == nil {
		return fmt.Errorf("authorization %s for %s offers no http-01 challenge", url, authz.Identifier.Value)
	}
	answer, err := client.HTTP01ChallengeResponse(chal.Token)
	if err != nil {
		return fmt.Errorf("http-01 response: %w", err)
	}
	web.set(client.HTTP01ChallengePath(chal.Token), answer)
	step("Accept http-01 challenge %s for %s", chal.URI, authz.Identifier.Value)
	if _, err := client.Accept(ctx, chal); err != nil {
		return fmt.Errorf("accept challenge: %w", err)
	}
	step("WaitAuthorization %s", url)
	if _, err := client.WaitAuthorization(ctx, url); err != nil {
		return fmt.Errorf("wait authorization: %w", err)
	}
	step("authorization for %s valid", authz.Identifier.Value)
	return nil
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

	hc, err := httpClient(o)
	if err != nil {
		return err
	}
	accountKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	client := &acme.Client{Key: accountKey, DirectoryURL: o.directory, HTTPClient: hc, UserAgent: "keystep-acme-xcrypto"}

	listener, err := net.Listen("tcp", o.http01Addr)
	if err != nil {
		return fmt.Errorf("http-01 listener: %w", err)
	}
	web := &responder{answers: map[string]string{}}
	server := &http.Server{Handler: web, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	defer server.Close()
	step("serving http-01 on %s", listener.Addr())

	step("Register %s", o.directory)
	account, err := client.Register(ctx, &acme.Account{}, acme.AcceptTOS)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	step("account %s status %s", account.URI, account.Status)

	step("AuthorizeOrder %s", strings.Join(o.domains, ","))
	order, err := client.AuthorizeOrder(ctx, acme.DomainIDs(o.domains...))
	if err != nil {
		return fmt.Errorf("authorize order: %w", err)
	}
	step("order %s status %s, %d authorization(s)", order.URI, order.Status, len(order.AuthzURLs))
	for _, url := range order.AuthzURLs {
		if err := authorize(ctx, client, web, url); err != nil {
			return err
		}
	}
	step("WaitOrder %s", order.URI)
	order, err = client.WaitOrder(ctx, order.URI)
	if err != nil {
		return fmt.Errorf("wait order: %w", err)
	}
	step("order status %s", order.Status)

	certKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: o.domains[0]},
		DNSNames: o.domains,
	}, certKey)
	if err != nil {
		return fmt.Errorf("create csr: %w", err)
	}
	step("CreateOrderCert %s", order.FinalizeURL)
	chain, certURL, err := client.CreateOrderCert(ctx, order.FinalizeURL, csr, true)
	if err != nil {
		return fmt.Errorf("create order cert: %w", err)
	}
	step("certificate %s: %d certificate(s) in the chain", certURL, len(chain))
	if err := writePEM(o.out, "CERTIFICATE", chain, 0o644); err != nil {
		return err
	}
	step("wrote %s", o.out)
	if o.keyOut != "" {
		der, err := x509.MarshalPKCS8PrivateKey(certKey)
		if err != nil {
			return err
		}
		if err := writePEM(o.keyOut, "PRIVATE KEY", [][]byte{der}, 0o600); err != nil {
			return err
		}
		step("wrote %s", o.keyOut)
	}
	if o.revoke {
		step("RevokeCert %s with the account key", certURL)
		if err := client.RevokeCert(ctx, nil, chain[0], acme.CRLReasonUnspecified); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		step("revoked")
	}
	return nil
}

func main() {
	o, err := parseFlags()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "acme-xcrypto: %v\n", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "acme-xcrypto: error: %v\n", err)
		os.Exit(1)
	}
	step("done")
}
