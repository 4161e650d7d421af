"""Converts registry molecule sets into JSON lines {"id", "Z", "R" (Angstrom), "E", ...}, gzipped.

Standard library only.  Usage: convert_molecules.py qm7|qm9 SOURCE_DIR OUT.jsonl.gz
  qm7: E = heat of formation / atomisation energy from hof_qm7.txt, kcal/mol
  qm9: E = U0 (Hartree); E_atomization = U0 - sum of atomic U0 references (Hartree)
"""
import ast, csv, gzip, json, os, sys

ZOF = {'H': 1, 'C': 6, 'N': 7, 'O': 8, 'F': 9, 'S': 16}
U0_REF = {1: -0.500273, 6: -37.846772, 7: -54.583861, 8: -75.064579, 9: -99.718730}


def qm7(src, out):
    n = 0
    with open(os.path.join(src, 'hof_qm7.txt')) as f, gzip.GzipFile(out + '.tmp', 'wb', mtime=0) as gz:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            lines = open(os.path.join(src, 'qm7', tok[0])).read().splitlines()
            nat = int(lines[0])
            Z, R = [], []
            for l in lines[2:2 + nat]:
                t = l.split()
                Z.append(ZOF[t[0]])
                R.append([float(x) for x in t[1:4]])
            rec = {'id': tok[0][:-4], 'Z': Z, 'R': R, 'E': float(tok[1])}
            gz.write((json.dumps(rec, separators=(',', ':')) + '\n').encode())
            n += 1
    os.replace(out + '.tmp', out)
    print(f'{n} molecules')


def qm9(src, out, every=int(os.environ.get('QM9_EVERY', '10'))):
    if os.environ.get('QM9_FULL') == '1':
        every = 1
    csv.field_size_limit(10**9)
    i = n = 0
    with gzip.GzipFile(out + '.tmp', 'wb', mtime=0) as gz:
        for part in ('qm9_part1.csv', 'qm9_part2.csv', 'qm9_part3.csv'):
            with open(os.path.join(src, part), newline='') as f:
                for row in csv.DictReader(f):
                    keep = i % every == 0
                    i += 1
                    if not keep:
                        continue
                    Z = [ZOF[e] for e in ast.literal_eval(row['Elements'])]
                    R = [[float(x) for x in r] for r in ast.literal_eval(row['XYZ_Ang'])]
                    assert len(Z) == len(R) == int(row['N_atoms'])
                    u0 = float(row['InternalEnergy_0K_au'])
                    rec = {'id': int(row['Index']), 'Z': Z, 'R': R, 'E': u0,
                           'E_atomization': round(u0 - sum(U0_REF[z] for z in Z), 6)}
                    gz.write((json.dumps(rec, separators=(',', ':')) + '\n').encode())
                    n += 1
    os.replace(out + '.tmp', out)
    print(f'{n} molecules')


if __name__ == '__main__':
    {'qm7': qm7, 'qm9': qm9}[sys.argv[1]](sys.argv[2], sys.argv[3])
