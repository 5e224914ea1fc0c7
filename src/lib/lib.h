/* lib: the one place that knows which modules add sections to a dataset config. src/data
 * keeps a registry of sections by name (data_config_section_register) and knows no module;
 * this list, called once before the first config is read, registers each module's sections.
 * A module with a new section (risk, fairness, feedback, serve, explain) adds one line here. */
#ifndef LIB_H
#define LIB_H

/* Registers every module's config sections, once per process (pthread_once: any thread may
 * call it, any number of times). A registration that fails is a programming error: it is
 * reported on stderr and the section stays unknown (configs with it are refused). */
void lib_register_sections(void);

#endif
