/** Standard black-box test functions for samplers (both minimized), with their search spaces and known optima. */
import { float, space, type ParamsOf } from './space.ts';


const braninSpace = space({ x1: float(-5, 10), x2: float(0, 15) });

/** Branin-Hoo on [-5, 10] × [0, 15]: three global minima, f* = 0.397887. */
export const branin = {
  name: 'branin',
  space: braninSpace,
  optimum: 0.397887,
  argmin: { x1: Math.PI, x2: 2.275 },
  f: ({ x1, x2 }: ParamsOf<typeof braninSpace>): number => {
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
} as const;

const hartmann6Space = space({ x1: float(0, 1), x2: float(0, 1), x3: float(0, 1), x4: float(0, 1), x5: float(0, 1), x6: float(0, 1) });

const ALPHA = [1.0, 1.2, 3.0, 3.2];
const A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

/** Hartmann 6-D on [0, 1]⁶: six local minima, f* = −3.32237. */
export const hartmann6 = {
  name: 'hartmann6',
  space: hartmann6Space,
  optimum: -3.32237,
  argmin: { x1: 0.20169, x2: 0.150011, x3: 0.476874, x4: 0.275332, x5: 0.311652, x6: 0.6573 },
  f: (p: ParamsOf<typeof hartmann6Space>): number => {
    const x = [p.x1, p.x2, p.x3, p.x4, p.x5, p.x6];
    let sum = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++) inner += A[i]![j]! * (x[j]! - P[i]![j]!) ** 2;
      sum += ALPHA[i]! * Math.exp(-inner);
    }
    return -sum;
  },
} as const;
