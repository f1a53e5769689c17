// A custom runtime written in Go: an HTTP server on FC_SERVER_PORT that answers /invoke.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("FC_SERVER_PORT")
	http.HandleFunc("/invoke", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("go got %d bytes\n", len(body))
		w.Header().Set("x-fc-status", "200")
		fmt.Fprintf(w, "go:%s:%s", body, r.Header.Get("x-fc-request-id"))
	})
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
