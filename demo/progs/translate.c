// SPDX-License-Identifier: GPL-2.0
/* One translation: where does the variable `answer` really live? */
#include "step.h"

int answer = 41;		/* in the program's data section */

int main(void)
{
	answer++;		/* written once: its page is present and dirty */
	printf("answer = %d, at virtual address %p\n", answer, (void *)&answer);
	step("ready addr=%p", (void *)&answer);
	return 0;
}
