"""moqlab's asv benchmark suite (see ``benchmarks/README.md``)."""
