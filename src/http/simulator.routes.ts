import { Router } from 'express';
import type { GatewaySimulator } from '../gateway/simulator';

/**
 * The built-in simulator's controls (`/_sim/stats`, `/_sim/received`, `/_sim/behaviour`,
 * `/_sim/mode`, `/_sim/reply`) under Herald's own port, where a new user finds them at the
 * same place at every start (the simulator's own port is any free one). main.ts mounts them
 * outside production only: they need no token, like the standalone simulator's.
 */
export function simulatorRoutes(simulator: GatewaySimulator): Router {
  const router = Router();
  router.use('/_sim', (req, res) => void simulator.control(req, res, req.originalUrl));
  return router;
}
