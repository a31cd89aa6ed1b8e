/**
 * The eight datasets of the SCTL paper (SCIENCE.md, Tables 1 and 2): sample
 * counts and class balance per domain, which the synthetic generator copies.
 */

export type ShapeName = 'data1' | 'data2' | 'data3' | 'data4' | 'data5' | 'data6' | 'data7' | 'data8';

export interface ClassCounts {
  resistant: number;
  sensitive: number;
}

export interface PaperShape {
  drug: string;
  bulk: ClassCounts;
  cells: ClassCounts;
  /** Genes shared by both domains in the paper (the generator defaults to fewer). */
  genes: number;
  /** Where the paper's single cells came from. */
  target: string;
}

export const PAPER_SHAPES: Readonly<Record<ShapeName, PaperShape>> = {
  data1: { drug: 'Cisplatin', bulk: { resistant: 791, sensitive: 489 }, cells: { resistant: 187, sensitive: 361 }, genes: 12966, target: 'GSE117872' },
  data2: { drug: 'Gefitinib', bulk: { resistant: 799, sensitive: 481 }, cells: { resistant: 470, sensitive: 37 }, genes: 12499, target: 'GSE112274' },
  data3: { drug: 'Docetaxel', bulk: { resistant: 788, sensitive: 492 }, cells: { resistant: 162, sensitive: 162 }, genes: 13476, target: 'GSE140440' },
  data4: { drug: 'I-BET-762', bulk: { resistant: 724, sensitive: 556 }, cells: { resistant: 685, sensitive: 734 }, genes: 9566, target: 'GSE110894' },
  data5: { drug: 'Bortezomib', bulk: { resistant: 770, sensitive: 510 }, cells: { resistant: 4565, sensitive: 2875 }, genes: 12715, target: 'GSE114461' },
  data6: { drug: 'Gefitinib', bulk: { resistant: 714, sensitive: 115 }, cells: { resistant: 33, sensitive: 33 }, genes: 10610, target: 'JHU006' },
  data7: { drug: 'Vorinostat', bulk: { resistant: 774, sensitive: 60 }, cells: { resistant: 33, sensitive: 33 }, genes: 10610, target: 'JHU006' },
  data8: { drug: 'AR-42', bulk: { resistant: 811, sensitive: 80 }, cells: { resistant: 33, sensitive: 33 }, genes: 10610, target: 'JHU006' },
};

export const SHAPE_NAMES = Object.keys(PAPER_SHAPES) as ShapeName[];

export function isShapeName(value: unknown): value is ShapeName {
  return typeof value === 'string' && Object.hasOwn(PAPER_SHAPES, value);
}
