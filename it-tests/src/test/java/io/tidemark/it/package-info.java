/**
 * End-to-end tests with real NBD clients nobody here wrote: nbdinfo, nbdsh, nbdcopy, nbdfuse,
 * qemu-img, qemu-io, fio's nbd engine and nbd-client. Each {@code *IT} class starts the server
 * under test as a process ({@link io.tidemark.it.NbdServerExtension}) and runs clients against
 * it ({@link io.tidemark.it.Client}); a client that is not installed fails the test.
 *
 * <p>The server is tidemark by default (and in CI). To check the tests themselves against a
 * reference server, run them against nbdkit's file plugin:
 * {@code mvn -pl it-tests -am verify -Dit.server=nbdkit}.
 */
package io.tidemark.it;
