// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container discovery from a Docker container name or id: its process id
 * from the Engine API (docker.c), then discover.c's search from the pid.
 * Apart from discover.c so that users of the kernel-only discovery (the CNI
 * plugin, linked statically) do not pull in the Docker client.
 *
 * Errors: those of xdpctl_discover_pid(); -ESRCH the container is not
 * running; -ENOENT no such container; -ECONNREFUSED the Docker daemon does
 * not answer on its socket; -EINVAL a name that is not a Docker name;
 * -EPROTO an answer we cannot read.
 */
#include <stdio.h>
#include <stdlib.h>

#include "docker_int.h"

int xdpctl_discover_docker(const char *name_or_id, struct xdpctl_container *c)
{
	struct xdpctl_docker_ctr *d;
	struct xdpctl_docker *dk;
	unsigned int i;
	int err;

	if (!name_or_id || !c)
		return dp_ret(-EINVAL);
	err = xdpctl_docker__open(NULL, &dk);
	if (err)
		return dp_err(NULL, err, "%s", xdpctl_docker__errmsg(NULL));
	d = calloc(1, sizeof(*d));
	if (!d) {
		xdpctl_docker__close(dk);
		return dp_err(NULL, -ENOMEM, "out of memory");
	}
	err = xdpctl_docker__inspect(dk, name_or_id, NULL, d);
	if (err)
		dp_err(NULL, err, "%s", xdpctl_docker__errmsg(dk));
	xdpctl_docker__close(dk);
	if (err)
		goto out;
	if (!d->running || !d->pid) {
		err = dp_err(NULL, -ESRCH, "container %s is not running", name_or_id);
		goto out;
	}
	err = xdpctl_discover_pid(d->pid, c);
	if (err)
		goto out;
	/* The kernel's view (veth, peer MAC and addresses) wins; Docker fills the gaps. */
	snprintf(c->name, sizeof(c->name), "%s", d->name);
	snprintf(c->id, sizeof(c->id), "%s", d->id);
	for (i = 0; i < d->nnets; i++) {
		if (!c->has4 && d->nets[i].has4) {
			c->addr4 = d->nets[i].addr4;
			c->has4 = true;
		}
		if (!c->has6 && d->nets[i].has6) {
			c->addr6 = d->nets[i].addr6;
			c->has6 = true;
		}
	}
out:
	free(d);
	return dp_ret(err);
}
