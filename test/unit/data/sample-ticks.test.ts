import fs from 'node:fs';
import path from 'node:path';
import { generateSampleCsv, SAMPLE_DEFAULTS, SAMPLE_HEADER, decimalsOf } from '../../../data/sample-ticks';
import { INSTRUMENTS } from '../../../workload/reference-data';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

describe('DR validation dataset (data/sample.csv)', () => {
  it('is byte-identical for the same seed', () => {
    const a = generateSampleCsv({ seed: 42, rows: 2000 });
    const b = generateSampleCsv({ seed: 42, rows: 2000 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('differs for a different seed', () => {
    const a = generateSampleCsv({ seed: 42, rows: 500 });
    const b = generateSampleCsv({ seed: 43, rows: 500 });
    expect(a).not.toEqual(b);
    // Not just a shifted copy: most data lines differ.
    const la = a.split('\n');
    const lb = b.split('\n');
    expect(la.filter((line, i) => line === lb[i]).length).toBeLessThan(10);
  });

  it('the committed data/sample.csv is what the generator produces with the default seed', () => {
    const committed = fs.readFileSync(path.join(repoRoot, 'data', 'sample.csv'), 'utf8');
    expect(committed).toBe(generateSampleCsv());
  });

  it('has the header, the row count and well-formed ticks for the seeded instruments', () => {
    const csv = generateSampleCsv({ rows: 3000 });
    expect(csv.endsWith('\n')).toBe(true);
    expect(csv).not.toContain('\r');
    const [header, ...rows] = csv.trimEnd().split('\n');
    expect(header).toBe(SAMPLE_HEADER);
    expect(rows).toHaveLength(3000);

    const symbols = new Map(INSTRUMENTS.map((i) => [i.symbol, i]));
    const seen = new Set<string>();
    let previous = Date.parse(SAMPLE_DEFAULTS.start);
    for (const row of rows) {
      const [ts, symbol, bid, ask, last, volume, ...extra] = row.split(',');
      expect(extra).toEqual([]);
      const instrument = symbols.get(symbol as string);
      if (!instrument) throw new Error(`unknown symbol in ${row}`);
      seen.add(instrument.symbol);
      expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const t = Date.parse(ts as string);
      expect(t).toBeGreaterThan(previous);
      previous = t;
      const digits = decimalsOf(instrument.tickSize);
      for (const price of [bid, ask, last]) {
        expect(price).toMatch(new RegExp(`^\\d+${digits ? `\\.\\d{${digits}}` : ''}$`));
        expect(Number(price)).toBeGreaterThan(0);
      }
      expect(Number(bid)).toBeLessThan(Number(ask));
      expect(Number(last)).toBeGreaterThanOrEqual(Number(bid));
      expect(Number(last)).toBeLessThanOrEqual(Number(ask));
      expect(Number(volume)).toBeGreaterThan(0);
      // Prices stay near the reference (a random walk over ~10 minutes, not a blow-up).
      expect(Math.abs(Number(last) / Number(instrument.referencePrice) - 1)).toBeLessThan(0.1);
    }
    expect(seen).toEqual(new Set(symbols.keys()));
  });

  it('rejects nonsense options', () => {
    expect(() => generateSampleCsv({ rows: 0 })).toThrow(/rows/);
    expect(() => generateSampleCsv({ start: 'yesterday' })).toThrow(/start/);
  });
});
