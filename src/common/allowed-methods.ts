import type { Request } from 'express';

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): boolean;
}

/**
 * Methods that the app's routes accept for this request's path (empty when the path is unknown).
 * Asked only for a request nothing answered, so a route accepting its method (a middleware mounted
 * for every method, say) is one that passed it on, and says nothing about what the path allows.
 */
export function allowedMethods(request: Request): string[] {
  const stack =
    (request.app as unknown as { router?: { stack: RouteLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    const route = layer.route;
    if (!route || route.methods[request.method.toLowerCase()] || !layer.match(request.path))
      continue;
    for (const [method, enabled] of Object.entries(route.methods)) {
      if (enabled && method !== '_all') methods.add(method.toUpperCase());
    }
  }
  return [...methods].sort();
}
