"""Genome corpora: windows (lengths, both strands, N handling, GFF anchoring), the cached windows file, and
masked-token pretraining on a tiny genome through the pretrain CLI."""
import gzip
import json

import numpy as np
import pytest

from deepchem_finetune.cli import main
from deepchem_finetune.data.genomes import (genome_corpus, genome_windows, kmer_codes, read_corpus_spec, read_gff,
                                            reverse_complement)

RNG = np.random.default_rng(0)
CHR = "".join(RNG.choice(list("ACGT"), 100))
PLASMID = "".join(RNG.choice(list("ACGT"), 30))


@pytest.fixture(autouse=True)
def private_cache(cache_dir):
    return cache_dir


@pytest.fixture
def genome(tmp_path):
    """Two records: a 100-base chromosome with an N at 65 and an R (IUPAC A/G) at 85, and a 30-base plasmid."""
    chrom = CHR[:65] + "N" + CHR[66:85] + "R" + CHR[86:]
    path = tmp_path / "tiny.fna.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(f">chr1 chromosome\n{chrom[:60].lower()}\n{chrom[60:]}\n>pl plasmid\n{PLASMID}\n")
    return path, chrom


@pytest.fixture
def gff(tmp_path):
    path = tmp_path / "tiny.gff"
    lines = ["##gff-version 3", "chr1\tRefSeq\tregion\t1\t100\t.\t+\t.\tID=chr1",
             "chr1\tRefSeq\tgene\t31\t60\t.\t+\t.\tID=gene-a;Name=geneA",   # 0-based [30, 60)
             "chr1\tRefSeq\tgene\t11\t25\t.\t-\t.\tID=gene-b;Name=geneB",   # [10, 25), minus strand
             "chr1\tRefSeq\tgene\t5\t10\t.\t+\t.\tID=gene-c;Name=geneC"]    # too close to the start for 20 upstream
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tiled_windows_lengths_strands_and_n_handling(genome):
    path, chrom = genome
    w = genome_windows(path, 20, stride=10)
    assert all(len(s) == 20 for s in w.sequences)
    # chr1: starts 0..80 (9 windows), plasmid: 0, 10 (2); the N spoils starts 50 and 60, the R 70 and 80
    assert w.skipped_by_reason == {"too_many_N": 4} and w.n_ambiguous_as_N == 0
    assert [i for i in w.ids if i.startswith("pl")] == ["pl:0-20(+)", "pl:10-30(+)"]
    assert len(w.ids) == 9 - 4 + 2 and w.records == [["chr1", 100], ["pl", 30]]
    assert dict(zip(w.ids, w.sequences))["chr1:0-20(+)"] == chrom[:20].upper()  # soft-masked bases upper-cased
    both = genome_windows(path, 20, stride=10, both_strands=True)
    assert len(both.ids) == 2 * len(w.ids) and both.ids[1] == "chr1:0-20(-)"
    assert both.sequences[1] == reverse_complement(both.sequences[0])
    lenient = genome_windows(path, 20, stride=10, max_n_fraction=0.05)  # one N of 20 allowed
    assert lenient.skipped_by_reason == {} and len(lenient.ids) == 11
    assert dict(zip(lenient.ids, lenient.sequences))["chr1:70-90(+)"] == chrom[70:85] + "N" + chrom[86:90]
    assert lenient.n_ambiguous_as_N == 2  # the R, in two windows, written as N
    short = genome_windows(path, 40, stride=40)
    assert short.skipped_by_reason["record_shorter_than_window"] == 1


def test_gff_anchored_windows(genome, gff):
    path, chrom = genome
    genes = read_gff(gff)
    assert [g.name for g in genes] == ["geneA", "geneB", "geneC"] and genes[1].start == 10 and genes[1].end == 25
    up = genome_windows(path, 20, gff=gff, anchor="upstream")
    assert up.ids == ["geneA|chr1:10-30(+)", "geneB|chr1:25-45(-)"]
    assert up.sequences[0] == chrom[10:30].upper()                      # ends just before geneA's first base
    assert up.sequences[1] == reverse_complement(chrom[25:45].upper())  # geneB reads leftwards: upstream is right
    assert up.skipped_by_reason == {"off_record_end": 1}                # geneC: only 4 bases before it
    shifted = genome_windows(path, 20, gff=gff, anchor="upstream", upstream_offset=3)
    assert shifted.ids[0] == "geneA|chr1:13-33(+)"
    body = genome_windows(path, 20, stride=5, gff=gff, anchor="gene")
    a = [s for i, s in zip(body.ids, body.sequences) if i.startswith("geneA")]
    assert len(a) == 3 and a[0] == chrom[30:50].upper()                 # 30 bases: starts 30, 35, 40
    b = [i for i in body.ids if i.startswith("geneB")]
    assert b == ["geneB|chr1:5-25(-)"]                                  # 15 bases: one window from its 5' end
    with pytest.raises(ValueError, match="anchor"):
        genome_windows(path, 20, anchor="upstream")


def test_gff_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.gff"
    bad.write_text("chr1\tRefSeq\tgene\t1\tx\t.\t+\t.\tID=a\n")
    with pytest.raises(ValueError, match="line 1"):
        read_gff(bad)


def test_kmer_codes_skip_ambiguous_and_canonical_matches_reverse_complement():
    seq = "ACGTTGCAAGGN"
    assert len(kmer_codes(seq, 4)) == len(seq) - 4  # the last k-mer holds the N
    fwd = sorted(kmer_codes(seq[:-1], 5, canonical=True))
    assert fwd == sorted(kmer_codes(reverse_complement(seq[:-1]), 5, canonical=True))


def test_genome_corpus_is_cached_and_spec_file_lists_genomes(genome, tmp_path, cache_dir):
    path, _ = genome
    first, info = genome_corpus([path], 20, stride=10, both_strands=True)
    assert info["windows"] == 14 and info["skipped_by_reason"] == {"too_many_N": 4}
    assert info["genomes"][0]["name"] == "tiny.fna.gz" and len(info["genomes"][0]["sha256"]) == 64
    again, _ = genome_corpus([path], 20, stride=10, both_strands=True)
    assert again == first and open(first).read().count(">") == 14
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"genomes": ["tiny.fna.gz"], "window": 20}))
    assert read_corpus_spec(spec)["genomes"] == [str(path)]
    spec.write_text(json.dumps({"genomes": ["tiny.fna.gz"], "windows": 20}))
    with pytest.raises(ValueError, match="windows"):
        read_corpus_spec(spec)


def test_masked_token_pretraining_on_a_tiny_genome_lowers_the_loss(tmp_path):
    """A genome made of noisy copies of one 40-base motif: masked bases are predictable from their context."""
    rng = np.random.default_rng(1)
    motif = np.array(list("".join(rng.choice(list("ACGT"), 40))))
    copies = []
    for _ in range(60):
        m = motif.copy()
        hit = rng.random(40) < 0.05
        m[hit] = rng.choice(list("ACGT"), hit.sum())
        copies.append("".join(m))
    path = tmp_path / "motif.fa"
    path.write_text(">m\n" + "".join(copies) + "\n")
    common = ["pretrain", "--no-progress", "--backbone", "seq_cnn", "--objective", "masked_tokens", "--tokenizer",
              "nucleotide", "--corpus", str(path), "--window", "40", "--stride", "20", "--both-strands",
              "--width", "32", "--depth", "2", "--batch-size", "16", "--lr", "5e-3", "--epochs", "100", "--workers", "1"]
    assert main(common + ["--out", str(tmp_path / "a"), "--max-steps", "1"]) == 0
    assert main(common + ["--out", str(tmp_path / "b"), "--max-steps", "80"]) == 0
    first = json.load(open(tmp_path / "a" / "config.json"))
    later = json.load(open(tmp_path / "b" / "config.json"))
    prov = later["provenance"]
    assert prov["data"]["name"] == "motif.fa" and prov["data"]["size"] == 2 * 119
    assert later["featurizer"]["config"]["max_length"] == 40  # one window, by default
    assert prov["final_loss"] < 0.6 * first["provenance"]["final_loss"]
    assert prov["eval_masked_accuracy"] > 0.5  # 4 bases: 0.25 by chance
    with pytest.raises(SystemExit, match="--window"):
        main(["pretrain", "--corpus", str(path), "--out", str(tmp_path / "c"), "--window", "40"])


def test_kmer_tokens_for_genome_corpora(genome, tmp_path):
    path, _ = genome
    assert main(["pretrain", "--no-progress", "--backbone", "seq_cnn", "--objective", "masked_tokens",
                 "--tokenizer", "nucleotide", "--kmer", "3", "--corpus", str(path), "--window", "20",
                 "--stride", "10", "--width", "8", "--depth", "1", "--max-steps", "1", "--workers", "1",
                 "--out", str(tmp_path / "k3")]) == 0
    cfg = json.load(open(tmp_path / "k3" / "config.json"))
    assert cfg["featurizer"]["config"]["k"] == 3 and cfg["featurizer"]["config"]["max_length"] == 18
    assert cfg["provenance"]["data"]["skipped_by_reason"] == {"window_too_many_N": 4}
