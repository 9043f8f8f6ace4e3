package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rs/zerolog"
)

// loadKey finds the API key: --api-key-file, else env SUBVERSE_API_KEY.
// It returns where the key came from (never the key) for logs and the
// JSON report. Errors never include the key.
func loadKey(o *options, getenv func(string) string, log zerolog.Logger) (key, source string, err error) {
	if o.apiKeyFile != "" {
		source = "file " + o.apiKeyFile
		b, err := os.ReadFile(o.apiKeyFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", "", fmt.Errorf("--api-key-file %s: cannot read: %v", o.apiKeyFile, err)
		}
		if st, err := os.Stat(o.apiKeyFile); err == nil && st.Mode().Perm()&0o077 != 0 {
			log.Warn().Str("api_key_file", o.apiKeyFile).Str("mode", fmt.Sprintf("%04o", st.Mode().Perm())).
				Msgf("the key file can be read by other users; run: chmod 600 %s", o.apiKeyFile)
		}
		key = strings.TrimSpace(string(b))
		if key == "" {
			return "", "", fmt.Errorf("--api-key-file %s is empty: put the SubVerse API key in it", o.apiKeyFile)
		}
	} else {
		source = "env SUBVERSE_API_KEY"
		raw := getenv("SUBVERSE_API_KEY")
		key = strings.TrimSpace(raw)
		if raw == "" {
			return "", "", errors.New("no API key: set SUBVERSE_API_KEY, or pass --api-key-file FILE (there is no flag that takes the key itself)")
		}
		if key == "" {
			return "", "", errors.New("SUBVERSE_API_KEY holds only white space: put the SubVerse API key in it, or pass --api-key-file FILE")
		}
	}
	if err := checkKey(key); err != nil {
		return "", "", fmt.Errorf("the API key from %s %v", source, err)
	}
	return key, source, nil
}

// checkKey makes sure the key can travel in an HTTP header as it is.
func checkKey(key string) error {
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == ' ' || c == '\t':
			return errors.New("contains white space; a key is one word: check the file or variable")
		case c < 0x21 || c == 0x7f:
			return errors.New("contains a control character; check the file or variable")
		case c >= 0x80:
			return errors.New("contains a non-ASCII character; check the file or variable")
		}
	}
	if len(key) > 4096 {
		return errors.New("is longer than 4096 bytes; check that the file holds only the key")
	}
	return nil
}
