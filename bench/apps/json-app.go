// The bench's JSON app in Go, for the rows that measure a load generator: it answers what
// JSON_APP_SOURCE (bench/lib/common.ts) answers, on every core and at a fraction of the Node
// app's CPU per request, so the client is what limits the req/s, not the app.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
)

type answer struct {
	OK   bool   `json:"ok"`
	Path string `json:"path"`
	At   int64  `json:"at"`
}

func main() {
	var count atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RequestURI == "/__bench/count" {
			w.Write([]byte(strconv.FormatInt(count.Load(), 10)))
			return
		}
		count.Add(1)
		body, _ := json.Marshal(answer{OK: true, Path: r.RequestURI, At: 1710000000000})
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("{\"port\":%d}\n", ln.Addr().(*net.TCPAddr).Port)
	fmt.Fprintln(os.Stderr, http.Serve(ln, handler))
	os.Exit(1)
}
